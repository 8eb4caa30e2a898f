# Shared model and optimisation of the CTAL paper's CNN setting (appendix E/F):
# HRNet-W18-small-v2 encoder, a PAD-Net head (method configs replace it),
# Adam with weight decay 1e-4, cosine annealing, batch 8 (from the dataset
# config). Method/dataset configs set `max_iters`, the lr, the tasks and
# the head; this file names no dataset (the dataset config defines `tasks`).
_base_ = ['../_base_/default_runtime.py']
max_iters = 20000
norm_cfg = dict(type='BN', requires_grad=True)
# ImageNet-pretrained HRNet-W18-small-v2 (MMSegmentation's
# 'open-mmlab://msra/hrnetv2_w18_small'). Nothing is downloaded: put the file
# at this path (or pass --cfg-options model.backbone.init_cfg=None to train
# from scratch).
pretrained = 'checkpoints/hrnetv2_w18_small-b5a04e21.pth'
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=dict(
        type='MultiTaskDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        size_divisor=32),
    backbone=dict(
        type='HRNet',
        norm_cfg=norm_cfg,
        norm_eval=False,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                        num_blocks=(2, ), num_channels=(64, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                        num_blocks=(2, 2), num_channels=(18, 36)),
            stage3=dict(num_modules=3, num_branches=3, block='BASIC',
                        num_blocks=(2, 2, 2), num_channels=(18, 36, 72)),
            stage4=dict(num_modules=2, num_branches=4, block='BASIC',
                        num_blocks=(2, 2, 2, 2),
                        num_channels=(18, 36, 72, 144))),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    decode_head=dict(
        type='PADNetHead',
        tasks=['semseg', 'depth', 'normals'],  # NYUv2-13; datasets override
        in_channels=[18, 36, 72, 144],
        in_index=[0, 1, 2, 3],
        in_strides=(4, 8, 16, 32),
        channels=64,
        distill_stride=4,
        norm_cfg=norm_cfg,
        num_classes=dict(semseg=13)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4),
    clip_grad=None)
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=0.0,
         by_epoch=False, begin=0, end=max_iters)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000,
                    max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='MultiTaskVisualizationHook', num_images=4))
