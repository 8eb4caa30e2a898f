# CTAL-SS with distillation at 1/8 with HRNet-W18-small-v2 on NYUv2-13
# (288x384); optimisation and data as the PAD-Net config it inherits.
_base_ = ['../padnet/padnet_hrnet18_20k_nyuv2-13-288x384.py']
tasks = ['semseg', 'depth', 'normals']
head_num_classes = dict(semseg=13)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='CTALHead',
        tasks=tasks,
        in_channels=[18, 36, 72, 144],
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
        # anchor-chunked affinity path: same results, a fraction of the
        # memory of the dense N x HW x HW tensors at 1/4 scale
        memory_efficient=True,
        chunk_size='auto',
        norm_cfg=norm_cfg,
        num_classes=head_num_classes))
