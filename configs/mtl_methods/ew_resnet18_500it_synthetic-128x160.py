# Equal weighting (EW, the plain sum of the task losses) through
# MultiTaskOptimWrapper on the demo hard-parameter-sharing model, data and
# schedule (ResNet-18, five synthetic tasks, 500 iterations): the reference
# of this folder. Every other config here inherits it and changes only
# `optim_wrapper`; see docs/en/user_guides/loss_weighting.md.
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adamw-poly_500it.py', '../_base_/default_runtime.py'
]
model = dict(
    decode_head=dict(tasks=_base_.tasks, num_classes=_base_.num_classes))
# delta_m references: the single-task runs of configs/single_task/README.md
# (same model and schedule, one task each; 2 CPU cores, 2026-11-23).
val_evaluator = test_evaluator = dict(
    single_task_baselines=dict(semseg=63.3475, depth=0.7866, normals=12.4054,
                               edge=0.0156, saliency=91.8876))
optim_wrapper = dict(
    type='MultiTaskOptimWrapper', method=dict(type='EW'),
    mode='representation')
