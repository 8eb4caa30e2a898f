# The CCR paper's optimisation (following MTI-Net) on NYUD-v2: Adam lr 2e-4,
# weight decay 1e-4, a 1-epoch linear warm-up then poly decay. The paper
# gives no epoch count; we use MTI-Net's 100 epochs: 795 images / batch 4 =
# 199 iterations per epoch, 19,900 iterations ~ 20k. Validation and
# checkpoints every 10 epochs.
iters_per_epoch = 199
max_iters = 100 * iters_per_epoch
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=2e-4, betas=(0.9, 0.999),
                   weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=iters_per_epoch),
    dict(type='PolyLR', eta_min=0.0, power=0.9, by_epoch=False,
         begin=iters_per_epoch, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=10 * iters_per_epoch)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=10 * iters_per_epoch, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='MultiTaskVisualizationHook', num_images=4))
