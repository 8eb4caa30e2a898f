# DeepLab-v3+ on a GroupNorm ResNet-26 (output stride 16): the CompL model
# (and ASTMT's). Encoder and decoder are shared; each task has a 1x1
# classifier on the 256-channel decoder output (the configs set the tasks; set
# decode_head.shared_decoder=False for one decoder per task).
# ImageNet weights: the paper initialises the encoder from ImageNet; no
# ResNet-26-GN is in the OpenMMLab zoo, so the encoder starts from scratch
# unless you set, e.g.,
#   model.backbone.init_cfg=dict(type='Pretrained',
#                                checkpoint='checkpoints/resnet26-gn_in1k.pth')
# with a GroupNorm checkpoint in MMSegmentation's key naming (BN checkpoints
# do not fit GN layers; the segmentor warns).
norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
# 16 groups in the head: the 48-channel low-level reduction is not
# divisible by 32.
head_norm_cfg = dict(type='GN', num_groups=16, requires_grad=True)
data_preprocessor = dict(
    type='MultiTaskDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    size_divisor=16,
    test_cfg=dict(size_divisor=16))
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ExtendedResNet',
        depth=26,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        init_cfg=None),
    decode_head=dict(
        type='DeepLabV3PlusHead',
        in_channels=(256, 2048),
        in_index=(0, 3),
        channels=256,
        c1_channels=48,
        dilations=(1, 6, 12, 18),
        dropout_ratio=0.1,
        norm_cfg=head_norm_cfg,
        feat_stride=4,
        shared_decoder=True),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
