# PAP-Net with SwinV2-S and DeepLab-style final heads on PASCAL-Context
# (512x512); optimisation, data and distillation scale (1/8) as the PAD-Net
# config it inherits.
_base_ = ['../padnet/padnet_swinv2-s_44k_pascal-context-512x512.py']
tasks = ['semseg', 'human_parts', 'saliency', 'normals', 'edge']
head_num_classes = dict(semseg=21, human_parts=7)
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
        distill_stride=8,
        gamma=0.05,
        memory_efficient=True,
        final_head=dict(type='ASPPPredictionHead'),
        norm_cfg=norm_cfg,
        num_classes=head_num_classes))
