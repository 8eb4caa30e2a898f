# PAP-Net with HRNet-W18-small-v2 on Cityscapes
# (128x256); optimisation and data as the PAD-Net config it inherits.
_base_ = ['../padnet/padnet_hrnet18_28k_cityscapes-128x256.py']
tasks = ['semseg', 'depth']
head_num_classes = dict(semseg=19)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='PAPNetHead',
        tasks=tasks,
        in_channels=[18, 36, 72, 144],
        in_index=[0, 1, 2, 3],
        in_strides=(4, 8, 16, 32),
        channels=64,
        distill_stride=4,
        gamma=0.05,
        scale_by_hw=True,
        memory_efficient=True,
        chunk_size='auto',
        norm_cfg=norm_cfg,
        num_classes=head_num_classes))
