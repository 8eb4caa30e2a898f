# The `make demo` config: hard-parameter sharing on the synthetic dataset, 500
# iterations on the CPU.
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adamw-poly_500it.py', '../_base_/default_runtime.py'
]
model = dict(decode_head=dict(
    tasks=_base_.tasks, num_classes=_base_.num_classes))
# delta_m references: the primary metric of each
# configs/single_task/stl-<task>_resnet18_500it_synthetic-128x160.py run,
# trained here with tools/train.py on 2026-11-23 (2 CPU cores, seed 0,
# same schedule; see configs/single_task/README.md).
val_evaluator = test_evaluator = dict(
    single_task_baselines=dict(
        semseg=63.3475,  # mIoU (%)
        depth=0.7866,  # rmse (m)
        normals=12.4054,  # mean angle (deg)
        edge=0.0156,  # balanced BCE
        saliency=91.8876))  # maxF (%)
