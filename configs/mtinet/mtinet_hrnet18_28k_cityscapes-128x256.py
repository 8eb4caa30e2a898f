# MTI-Net with HRNet-W18-small-v2 on Cityscapes
# (128x256); optimisation and data as the PAD-Net config it inherits.
_base_ = ['../padnet/padnet_hrnet18_28k_cityscapes-128x256.py']
tasks = ['semseg', 'depth']
head_num_classes = dict(semseg=19)
norm_cfg = dict(type='BN', requires_grad=True)
# Multi-scale models converge early on Cityscapes: the paper uses cosine
# annealing with warm restarts (4 periods of 7k iterations).
param_scheduler = [
    dict(type='CosineRestartLR', periods=[7000, 7000, 7000, 7000],
         restart_weights=[1.0, 1.0, 1.0, 1.0], eta_min=0.0, by_epoch=False,
         begin=0, end=28000)
]
model = dict(
    decode_head=dict(
        _delete_=True,
        type='MTINetHead',
        tasks=tasks,
        in_channels=[18, 36, 72, 144],
        in_index=[0, 1, 2, 3],
        in_strides=(4, 8, 16, 32),
        channels=64,
        feature_propagation=True,
        norm_cfg=norm_cfg,
        num_classes=head_num_classes))
