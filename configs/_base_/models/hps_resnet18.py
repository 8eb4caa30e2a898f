# Hard-parameter sharing: a ResNet-18 encoder and one small decoder per task.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='MultiTaskDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    size_divisor=32)
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='HPSHead',
        tasks=['semseg', 'depth', 'normals', 'edge', 'saliency'],
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        channels=64,
        dropout_ratio=0.0,
        norm_cfg=norm_cfg,
        feat_stride=4,
        num_classes=dict(semseg=6)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
