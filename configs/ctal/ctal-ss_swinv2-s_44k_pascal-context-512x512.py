# CTAL-SS with SwinV2-S and DeepLab-style final heads on PASCAL-Context
# (512x512) (distillation at 1/8); optimisation and data as the PAD-Net config
# it inherits. Only the single-scale framework is used with transformers, as in
# the paper.
_base_ = ['../padnet/padnet_swinv2-s_44k_pascal-context-512x512.py']
tasks = ['semseg', 'human_parts', 'saliency', 'normals', 'edge']
head_num_classes = dict(semseg=21, human_parts=7)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='CTALHead',
        tasks=tasks,
        in_channels=[96, 192, 384, 768],
        in_index=[0, 1, 2, 3],
        in_strides=(4, 8, 16, 32),
        channels=64,
        multi_scale=False,
        # CTAL grid = crop_size / distill_stride (checked at build time)
        crop_size={{_base_.crop_size}},
        distill_stride=8,
        kernel_size=3,
        gamma=0.05,
        shared_fusion=False,
        scale_by_hw=False,
        memory_efficient=True,
        chunk_size='auto',
        final_head=dict(type='ASPPPredictionHead'),
        norm_cfg=norm_cfg,
        num_classes=head_num_classes))
