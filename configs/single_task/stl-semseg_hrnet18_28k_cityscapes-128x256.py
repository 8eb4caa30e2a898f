# STL baseline of the CTAL paper for semseg with HRNet-W18-small-v2 on
# Cityscapes (128x256): the MTL baseline's model and schedule with one task.
_base_ = ['../hps/hps_hrnet18_28k_cityscapes-128x256.py']
tasks = ['semseg']
model = dict(
    decode_head=dict(tasks=tasks,
                     num_classes=dict(_delete_=True, semseg=19)))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
# One task: drop the multi-task references; the dataset's protocol.
val_evaluator = dict(
    _delete_=True,
    type='MultiTaskMetric',
    tasks=tasks,
    statistics=dict(semseg=dict(absent_class='nanmean')))
test_evaluator = val_evaluator
