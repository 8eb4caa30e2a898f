# The embedded synthetic multi-task dataset. Generate it with
#   python tools/misc/generate_synthetic.py --out data/synthetic
# (`make demo` generates it when it is missing); a missing data_root is an
# error naming the path, unless the dataset sets generate_if_missing=True.
dataset_type = 'SyntheticMultiTaskDataset'
data_root = 'data/synthetic'
tasks = ['semseg', 'depth', 'normals', 'edge', 'saliency']
crop_size = (128, 160)
generator_cfg = dict(
    num_train=1000, num_val=200, height=128, width=160, seed=0,
    num_workers=2)

train_pipeline = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(
        type='MultiTaskRandomResize',
        scale=(160, 128),
        ratio_range=(1.0, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
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
        tasks=tasks,
        generator_cfg=generator_cfg,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    # round_up=False: no duplicated images, so metrics are exact under DDP.
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        tasks=tasks,
        generator_cfg=generator_cfg,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
