# STL baseline of the CTAL paper for normals with HRNet-W18-small-v2 on
# NYUv2-13 (288x384): the MTL baseline's model and schedule with one task.
_base_ = ['../hps/hps_hrnet18_20k_nyuv2-13-288x384.py']
tasks = ['normals']
model = dict(decode_head=dict(tasks=tasks, num_classes=None))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
