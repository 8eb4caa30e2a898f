# Shared model and optimisation of the CTAL paper's transformer setting
# (appendix E/F): a SwinV2-S encoder (MMPretrain's SwinTransformerV2, used
# through the `mmpretrain.` registry scope), single-scale distillation heads
# with DeepLab-style (ASPP) final heads, Adam with weight decay 1e-4, cosine
# annealing, batch 8. Method/dataset configs set `max_iters`, the lr, the
# tasks and the head; this file names no dataset.
#
# Choices where the paper is silent: the four Swin stages (strides 4-32) are
# fused at the distillation scale by the heads' cross-scale fusion block (the
# paper only says the backbone provides "an aggregated single-scale feature
# representation"); window size 8 (the released SwinV2-S ImageNet-1k
# weights at 256px); drop-path rate 0.3 (Swin-S default).
_base_ = ['../_base_/default_runtime.py']
custom_imports = dict(imports=['mmpretrain.models'],
                      allow_failed_imports=False)
max_iters = 20000
norm_cfg = dict(type='BN', requires_grad=True)
# ImageNet-1k SwinV2-S (window 8, 256px) from MMPretrain's model zoo.
# Nothing is downloaded: put the file at this path (or pass --cfg-options
# model.backbone.init_cfg=None to train from scratch).
pretrained = 'checkpoints/swinv2-small-w8_3rdparty_in1k-256px_20220803-b01a4332.pth'  # noqa
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
        type='mmpretrain.SwinTransformerV2',
        arch='small',
        img_size=256,
        window_size=8,
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        pad_small_map=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained,
                      prefix='backbone.')),
    decode_head=dict(
        type='PADNetHead',
        tasks=['semseg', 'depth', 'normals'],  # NYUv2-13; datasets override
        in_channels=[96, 192, 384, 768],
        in_index=[0, 1, 2, 3],
        in_strides=(4, 8, 16, 32),
        channels=64,
        distill_stride=4,
        final_head=dict(type='ASPPPredictionHead'),
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
