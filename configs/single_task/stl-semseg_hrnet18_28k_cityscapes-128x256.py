# Single-task baseline for semseg: the HPS baseline's encoder, decoder,
# data and schedule with one task. Its siblings in this folder change the task.
_base_ = [
    '../_base_/models/hps_hrnet18.py', '../_base_/datasets/cityscapes_mtl.py',
    '../_base_/schedules/adam-cosine_28k.py', '../_base_/default_runtime.py'
]
tasks = ['semseg']
model = dict(decode_head=dict(tasks=tasks, num_classes=_base_.num_classes))
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(tasks=tasks))
# One task: no delta_m references; the dataset's evaluation protocol.
val_evaluator = test_evaluator = dict(
    single_task_baselines=None, primary_metrics=None)
