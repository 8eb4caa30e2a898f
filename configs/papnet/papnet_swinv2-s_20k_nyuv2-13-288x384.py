# PAP-Net with SwinV2-S and DeepLab-style final heads on NYUv2-13 (288x384);
# optimisation, data and distillation scale (1/4) as the PAD-Net config
# it inherits.
_base_ = ['../padnet/padnet_swinv2-s_20k_nyuv2-13-288x384.py']
tasks = ['semseg', 'depth', 'normals']
head_num_classes = dict(semseg=13)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='PAPNetHead',
        tasks=tasks,
        in_channels=[96, 192, 384, 768],
        in_index=[0, 1, 2, 3],
        in_strides=(4, 8, 16, 32),
        channels=64,
        distill_stride=4,
        gamma=0.05,
        memory_efficient=True,
        final_head=dict(type='ASPPPredictionHead'),
        norm_cfg=norm_cfg,
        num_classes=head_num_classes))
