# SwinV2-S encoder (MMPretrain's SwinTransformerV2, used through the
# `mmpretrain.` registry scope; `import mmmtl` imports mmpretrain.models),
# without a head: the encoder of the CTAL paper's transformer setting in
# _base_/models/*_swinv2-s.py, which add their decode head. Its four stages
# have 96, 192, 384 and 768 channels at strides 4, 8, 16 and 32.
# Choices where the paper is silent: window size 8 (the released SwinV2-S
# ImageNet-1k weights at 256px); drop-path rate 0.3 (Swin-S default).
# ImageNet-1k SwinV2-S (window 8, 256px) from MMPretrain's model zoo.
# Nothing is downloaded: put the file at this path (or pass --cfg-options
# model.backbone.init_cfg=None to train from scratch).
pretrained = 'checkpoints/swinv2-small-w8_3rdparty_in1k-256px_20220803-b01a4332.pth'  # noqa
norm_cfg = dict(type='BN', requires_grad=True)  # of the decode heads
data_preprocessor = dict(
    type='MultiTaskDataPreProcessor', mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, size_divisor=32)
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=data_preprocessor,
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
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
