# CTAL multi-scale (CTAL-MS) on the synthetic dataset: deep-supervised initial
# predictions at every backbone scale, per-task cross-scale fusion, one CTAL
# at 1/8 of the input (16 x 20 grid).
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_2k.py'
]
tasks = ['semseg', 'depth', 'normals', 'edge', 'saliency']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='CTALHead',
        tasks=tasks,
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        in_strides=(4, 8, 16, 32),
        channels=64,
        multi_scale=True,
        # CTAL's grouped convolutions have one kernel per position of the
        # distillation grid: crop_size / distill_stride = 16 x 20 here. The
        # crop comes from the dataset config so the two cannot disagree; a
        # crop the stride does not divide is refused at build time.
        crop_size={{_base_.crop_size}},
        distill_stride=8,
        kernel_size=3,
        gamma=0.05,
        shared_fusion=False,
        scale_by_hw=False,
        # True: the anchor-chunked affinity path (same results, far less
        # memory; worth it at 1/4 scale of larger inputs, not at 16 x 20)
        memory_efficient=False,
        chunk_size=128,
        norm_cfg=norm_cfg,
        num_classes=dict(semseg=6)))
val_evaluator = dict(type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
