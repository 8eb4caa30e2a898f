# CCR on MTI-Net, NYUD-v2 (CCR paper Table 2): the head's final (aggregated, 1/4-scale) task features are regularised. Data,
# schedule and CCR settings as ccr_hps_hrnet18_20k_nyud-480x640.py.
_base_ = [
    '../_base_/models/mtinet_hrnet18.py', '../_base_/datasets/nyud.py',
    '../_base_/schedules/adam-poly_20k.py', '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='open-mmlab://msra/hrnetv2_w18_small')),
    decode_head=dict(
        tasks=_base_.tasks, num_classes=_base_.num_classes, channels=256),
    auxiliary_losses=[
        dict(type='CrossTaskTripletLoss', tasks=_base_.tasks, in_channels=256,
             ramp_up_epochs=1, iters_per_epoch=_base_.iters_per_epoch)
    ])
val_dataloader = test_dataloader = dict(batch_size=1)
