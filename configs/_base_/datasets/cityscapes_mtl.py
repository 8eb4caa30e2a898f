# Cityscapes (2975 train / 500 val, 128x256) in the .npy layout of MTAN /
# LibMTL, the CTAL paper's setting. See docs/en/user_guides/dataset_prepare.md.
dataset_type = 'CityscapesMTANDataset'
data_root = 'data/cityscapes'
tasks = ['semseg', 'depth']
num_classes = 19  # CTAL uses the 19 classes; MTAN/LibMTL default to 7
crop_size = (128, 256)

train_pipeline = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='MultiTaskRandomResize', scale=(256, 128),
         ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='MultiTaskRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(
    batch_size=8,
    # GPU machine: 8 workers keep a GPU busy (docs/en/user_guides/gpu.md);
    # tools/train.py caps them at the cores per process.
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        num_classes=num_classes,
        tasks=tasks,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        num_classes=num_classes,
        tasks=tasks,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# Single-task references: CTAL Table 1 (CNN backbone), STL row:
# SemSeg mIoU 48.89, Depth relErr 29.91 (relative error of the distributed
# disparity values, as MTAN reports it; not a percentage).
# Evaluation protocol of MTAN / LibMTL / EMA-Net, which CTAL reports (see
# docs/en/user_guides/metrics.md): mIoU as the nanmean over present classes.
val_evaluator = dict(
    type='MultiTaskMetric',
    tasks=tasks,
    statistics=dict(semseg=dict(absent_class='nanmean')),
    single_task_baselines=dict(semseg=48.89, depth=29.91),
    primary_metrics=dict(semseg='mIoU', depth='abs_rel'))
test_evaluator = val_evaluator
