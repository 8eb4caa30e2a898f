# CCR on MTI-Net, PASCAL-Context (5 tasks): the head's final (aggregated,
# 1/4-scale) task features are regularised. Data, schedule and CCR settings as
# ccr_hps_hrnet18_50k_pascal-context-512x512.py, whose head is replaced
# (_delete_: another head type) and FPN removed.
_base_ = ['./ccr_hps_hrnet18_50k_pascal-context-512x512.py']
model = dict(
    neck=None,
    decode_head=dict(_base_.hrnet_head, _delete_=True, type='MTINetHead'),
    auxiliary_losses=[_base_.ccr_loss])
