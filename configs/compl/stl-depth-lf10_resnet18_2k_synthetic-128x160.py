# Baseline of the CompL label-fraction study: single-task depth on the same
# 10% subset as compl-depth-densecl-lf10 (same seed), no auxiliary task.
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/adamw-poly_2k.py'
]
tasks = ['depth']
model = dict(decode_head=dict(tasks=tasks))
train_dataloader = dict(
    dataset=dict(tasks=tasks, label_fraction=0.1, label_fraction_seed=0))
val_dataloader = test_dataloader = dict(dataset=dict(tasks=tasks))
