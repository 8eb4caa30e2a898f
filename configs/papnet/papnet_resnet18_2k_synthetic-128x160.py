# PAP-Net on the synthetic dataset: fused backbone features, initial
# predictions, task affinity matrices combined by a learnt weighted sum and
# diffused by matrix multiplication (at 1/8 of the input).
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_2k.py'
]
tasks = ['semseg', 'depth', 'normals', 'edge', 'saliency']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='PAPNetHead',
        tasks=tasks,
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        in_strides=(4, 8, 16, 32),
        channels=64,
        # affinity at 1/8 (16 x 20 = 320 positions) keeps the CPU demo fast
        distill_stride=8,
        gamma=0.05,
        scale_by_hw=True,
        memory_efficient=False,
        norm_cfg=norm_cfg,
        num_classes=dict(semseg=6)))
val_evaluator = dict(type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
