# MTL (hard parameter sharing) baseline of the CTAL paper with
# HRNet-W18-small-v2 on Cityscapes (128x256): the backbone scales are upsampled
# to 1/4 and concatenated, and each task has the paper's output head (a 3x3
# fusion conv and two residual bottlenecks, `ResidualTaskDecoder`) and a 1x1
# prediction conv. Optimisation and data as the PAD-Net config it inherits.
_base_ = ['../padnet/padnet_hrnet18_28k_cityscapes-128x256.py']
tasks = ['semseg', 'depth']
head_num_classes = dict(semseg=19)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='HPSHead',
        tasks=tasks,
        in_channels=[18, 36, 72, 144],
        in_index=[0, 1, 2, 3],
        channels=64,
        decoder=dict(type='ResidualTaskDecoder'),
        dropout_ratio=0.0,
        feat_stride=4,
        norm_cfg=norm_cfg,
        num_classes=head_num_classes))
