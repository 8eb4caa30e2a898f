# CompL single-task baseline on NYUD-v2: depth with DeepLab-v3+ on a GN
# ResNet-26, L1 loss, 8 images per iteration, 20k iterations (200 epochs of
# the 795 training images), SGD + poly, 425x560 crops of images randomly
# scaled by 0.5..2.0 in steps of 0.25 and flipped (the paper's "baseline
# augmentations"; no photometric distortion). Evaluated at 480x640 (RMSE).
_base_ = [
    '../_base_/models/deeplabv3plus_r26-gn.py',
    '../_base_/datasets/nyud.py', '../_base_/default_runtime.py',
    '../_base_/schedules/sgd-poly_20k.py'
]
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
# Crops of down-scaled images are padded to 425x560 (depth 0 = invalid).
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(tasks=tasks))
train_dataloader = dict(
    batch_size=8, dataset=dict(tasks=tasks, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='MultiTaskMetric',
    tasks=tasks,
    absent_class='zero',
    normals_validity='any')
test_evaluator = val_evaluator
