# NYUD-v2 in CompL's single-task protocol (Kanakis et al., WACV 2023): one
# target task (depth here; a config sets its own), 8 images per iteration,
# 425x560 crops of images randomly scaled by 0.5..2.0 in steps of 0.25 and
# flipped (the paper's "baseline augmentations"; no photometric
# distortion), evaluated at 480x640 without delta_m references.
_base_ = ['./nyud.py']
tasks = ['depth']
crop_size = (425, 560)
# 480x640 images x {0.5, 0.75, ..., 2.0}
ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
train_pipeline = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(
        type='RandomChoiceResize',
        scales=[(int(640 * r), int(480 * r)) for r in ratios],
        resize_type='MultiTaskResize',
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='MultiTaskRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(
    batch_size=8, dataset=dict(tasks=tasks, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
# _delete_: single-task runs report no delta_m (no references).
val_evaluator = dict(
    _delete_=True,
    type='MultiTaskMetric',
    tasks=tasks,
    absent_class='zero',
    normals_validity='any')
test_evaluator = val_evaluator
