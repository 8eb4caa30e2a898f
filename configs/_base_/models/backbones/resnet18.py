# ResNet-18 (V1c stem) encoder trained from scratch, without a head: the
# encoder of the synthetic-data models in _base_/models/*_resnet18.py, which
# add their decode head. Its four outputs have 64, 128, 256 and 512 channels
# at strides 4, 8, 16 and 32.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='MultiTaskDataPreProcessor', mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, size_divisor=32)
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
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
