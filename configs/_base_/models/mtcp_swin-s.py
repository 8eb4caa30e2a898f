# MT-CP (Fontana et al., WACV 2025) on an ImageNet Swin-S: MMSegmentation's
# SwinTransformer, a light pixel decoder (an FPN neck to 256 channels, then
# the head's upsample-concatenate-1x1 projection at 1/4) as the shared
# representation, and the MT-CP head (mtcp_head.py). The paper's
# Mask2Former representation: _base_/models/mask2former_swin-s.py.
# A config names the tasks and classes (from its dataset config):
#   model = dict(decode_head=dict(tasks=_base_.tasks,
#                                 num_classes=_base_.num_classes))
_base_ = ['./mtcp_head.py']
norm_cfg = dict(type='BN', requires_grad=True)
checkpoint_file = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/swin/swin_small_patch4_window7_224_20220317-7ba6d6dd.pth'  # noqa
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
    neck=dict(
        type='FPN',
        in_channels=[96, 192, 384, 768],
        out_channels=256,
        num_outs=4),
    decode_head=dict(
        _base_.mtcp_head,
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        channels=256,
        window_size=7,
        norm_cfg=norm_cfg),
    # Eq. (7): the LPS weights scale the final predictions' losses only.
    weight_deep_supervision=False,
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
