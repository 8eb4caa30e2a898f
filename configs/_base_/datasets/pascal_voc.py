# PASCAL VOC 2012 semantic segmentation: 10,582 "train_aug" images (VOC +
# SBD, MMSegmentation's tools/dataset_converters/voc_aug.py) / 1,449 val.
# See docs/en/user_guides/dataset_prepare.md.
dataset_type = 'PascalVOCMultiTaskDataset'
data_root = 'data/VOCdevkit/VOC2012'
tasks = ['semseg']
crop_size = (512, 512)

train_pipeline = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='LoadMultiTaskAnnotations'),
    # MMSegmentation's VOC recipe: scale 2048x512 x [0.5, 2.0], 512 crop.
    dict(type='MultiTaskRandomResize', scale=(2048, 512),
         ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='MultiTaskRandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='aug',
        ann_dir='SegmentationClassAug',
        tasks=tasks,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        ann_dir='SegmentationClass',
        tasks=tasks,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mIoU over all 21 classes, an absent class counting as 0 (the toolbox
# convention; every class occurs in the VOC val set, so MMSegmentation's
# nanmean gives the same number).
val_evaluator = dict(type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
