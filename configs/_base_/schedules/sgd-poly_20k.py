# CompL's optimisation: SGD, momentum 0.9, weight decay 1e-4, "poly" decay,
# 20k iterations (NYUD-v2). The learning rate is not stated in the paper;
# 0.005 is MMSegmentation's 0.01 for 16 images per iteration scaled to the
# 8 target images here.
optimizer = dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=1e-4)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=20000,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=20000, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=2000,
        max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='MultiTaskVisualizationHook', num_images=4))
