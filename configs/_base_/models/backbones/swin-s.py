# Swin-S encoder (MMSegmentation's SwinTransformer, ImageNet-1k weights from
# the OpenMMLab zoo) without a head: the encoder of _base_/models/*_swin-s.py,
# which add their neck and decode head. Its four stages have 96, 192, 384
# and 768 channels at strides 4, 8, 16 and 32.
norm_cfg = dict(type='BN', requires_grad=True)  # of the decode heads
checkpoint_file = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/swin/swin_small_patch4_window7_224_20220317-7ba6d6dd.pth'  # noqa
data_preprocessor = dict(
    type='MultiTaskDataPreProcessor', mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, size_divisor=32)
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='SwinTransformer',
        pretrain_img_size=224,
        embed_dims=96,
        patch_size=4,
        window_size=7,
        mlp_ratio=4,
        depths=[2, 2, 18, 2],
        num_heads=[3, 6, 12, 24],
        strides=(4, 2, 2, 2),
        out_indices=(0, 1, 2, 3),
        qkv_bias=True,
        drop_path_rate=0.3,
        patch_norm=True,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint_file)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
