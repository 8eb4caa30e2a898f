# STL baseline of the CTAL paper for saliency with SwinV2-S on PASCAL-Context
# (512x512): the MTL baseline's model and schedule with one task.
_base_ = ['../hps/hps_swinv2-s_44k_pascal-context-512x512.py']
tasks = ['saliency']
model = dict(decode_head=dict(tasks=tasks, num_classes=None))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
# One task: drop the multi-task references; the dataset's protocol.
val_evaluator = dict(
    _delete_=True,
    type='MultiTaskMetric',
    tasks=tasks)
test_evaluator = val_evaluator
