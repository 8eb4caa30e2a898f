# CCR on PAD-Net, PASCAL-Context (5 tasks): the head's final task features
# (after the distillation module) are regularised. Data, schedule and CCR
# settings as ccr_hps_hrnet18_50k_pascal-context-512x512.py, whose head is
# replaced (_delete_: another head type) and FPN removed.
_base_ = ['./ccr_hps_hrnet18_50k_pascal-context-512x512.py']
model = dict(
    neck=None,
    decode_head=dict(_base_.hrnet_head, _delete_=True, type='PADNetHead'),
    auxiliary_losses=[_base_.ccr_loss])
