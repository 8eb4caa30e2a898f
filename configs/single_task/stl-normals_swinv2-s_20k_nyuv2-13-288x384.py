# STL baseline of the CTAL paper for normals with SwinV2-S on NYUv2-13
# (288x384): the MTL baseline's model and schedule with one task.
_base_ = ['../hps/hps_swinv2-s_20k_nyuv2-13-288x384.py']
tasks = ['normals']
model = dict(decode_head=dict(tasks=tasks, num_classes=None))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
# One task: drop the multi-task references; the dataset's protocol.
val_evaluator = dict(
    _delete_=True,
    type='MultiTaskMetric',
    tasks=tasks,
    statistics=dict(semseg=dict(absent_class='nanmean'),
                    normals=dict(validity='sum')))
test_evaluator = val_evaluator
