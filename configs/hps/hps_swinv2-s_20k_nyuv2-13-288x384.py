# MTL (hard parameter sharing) baseline of the CTAL paper with SwinV2-S on
# NYUv2-13 (288x384): the four Swin stages are upsampled to 1/4 and
# concatenated, and each task has a DeepLab-style ASPP head (`ASPPBlock`)
# and a 1x1 prediction conv. Optimisation and data as the PAD-Net config it
# inherits.
_base_ = ['../padnet/padnet_swinv2-s_20k_nyuv2-13-288x384.py']
tasks = ['semseg', 'depth', 'normals']
head_num_classes = dict(semseg=13)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='HPSHead',
        tasks=tasks,
        in_channels=[96, 192, 384, 768],
        in_index=[0, 1, 2, 3],
        channels=64,
        decoder=dict(type='ASPPBlock'),
        dropout_ratio=0.0,
        feat_stride=4,
        norm_cfg=norm_cfg,
        num_classes=head_num_classes))
