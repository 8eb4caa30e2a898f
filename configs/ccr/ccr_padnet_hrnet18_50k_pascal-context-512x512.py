# CCR on PAD-Net, PASCAL-Context (5 tasks): the head's final task features (after the distillation module) are regularised. Data, schedule
# and CCR settings as ccr_hps_hrnet18_50k_pascal-context-512x512.py.
_base_ = [
    '../_base_/models/padnet_hrnet18.py',
    '../_base_/datasets/pascal_context.py',
    '../_base_/schedules/adam-poly_50k.py', '../_base_/default_runtime.py'
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
test_evaluator = dict(extra_statistics=dict(edge=[_base_.seism_edge]))
