# The `make demo` config: hard-parameter sharing (ResNet-18 from scratch, one
# small decoder per task) for semseg, depth, normals, edge and saliency on
# the synthetic dataset, trained for 500 iterations on the CPU.
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_500it.py'
]
tasks = ['semseg', 'depth', 'normals', 'edge', 'saliency']
# Single-task references of delta_m: the primary metric of each
# configs/single_task/stl-<task>_resnet18_500it_synthetic-128x160.py run,
# trained here with tools/train.py on 2026-11-23 (2 CPU cores, seed 0,
# same schedule; see configs/single_task/README.md).
single_task_baselines = dict(
    semseg=63.3475,  # mIoU (%)
    depth=0.7866,  # rmse (m)
    normals=12.4054,  # mean angle (deg)
    edge=0.0156,  # balanced BCE
    saliency=91.8876)  # maxF (%)
val_evaluator = dict(
    type='MultiTaskMetric', tasks=tasks,
    single_task_baselines=single_task_baselines)
test_evaluator = val_evaluator
