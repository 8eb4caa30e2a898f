# STL baseline of the CTAL paper for normals with SwinV2-S on NYUv2-13
# (288x384): the MTL baseline's model and schedule with one task.
_base_ = ['../hps/hps_swinv2-s_20k_nyuv2-13-288x384.py']
tasks = ['normals']
model = dict(decode_head=dict(tasks=tasks, num_classes=None))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
