# MTI-Net on the synthetic dataset: multi-scale initial predictions with deep
# supervision, feature propagation, per-scale distillation, aggregation at 1/4.
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_2k.py'
]
tasks = ['semseg', 'depth', 'normals', 'edge', 'saliency']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='MTINetHead',
        tasks=tasks,
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        in_strides=(4, 8, 16, 32),
        channels=64,
        feature_propagation=True,
        norm_cfg=norm_cfg,
        num_classes=dict(semseg=6)))
val_evaluator = dict(type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
