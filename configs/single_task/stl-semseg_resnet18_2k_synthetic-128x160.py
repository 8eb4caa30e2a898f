# Single-task baseline for semseg: the HPS baseline's encoder, decoder,
# data and schedule with one task. Its siblings in this folder change the task.
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adamw-poly_2k.py', '../_base_/default_runtime.py'
]
tasks = ['semseg']
model = dict(decode_head=dict(tasks=tasks, num_classes=_base_.num_classes))
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(tasks=tasks))
