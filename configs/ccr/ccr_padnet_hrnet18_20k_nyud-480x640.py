# CCR on PAD-Net, NYUD-v2 (CCR paper Table 2): the head's final task features
# (after the distillation module) are regularised. Data, schedule and CCR
# settings as ccr_hps_hrnet18_20k_nyud-480x640.py, whose head is replaced
# (_delete_: another head type) and FPN removed.
_base_ = ['./ccr_hps_hrnet18_20k_nyud-480x640.py']
model = dict(
    neck=None,
    decode_head=dict(_base_.hrnet_head, _delete_=True, type='PADNetHead'),
    auxiliary_losses=[_base_.ccr_loss])
