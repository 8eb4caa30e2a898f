# Pieces every multi-task dataset config shares: the loading, flip,
# photometric and packing steps, the test pipeline, the dataloader settings
# and the metric type. A dataset config
# (_base_/datasets/<dataset>.py) inherits this file and adds its dataset
# type, root, `tasks`, crop and train-time augmentation.
load_steps = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='LoadMultiTaskAnnotations'),
]
random_flip = dict(type='MultiTaskRandomFlip', prob=0.5)
photo_metric_distortion = dict(type='PhotoMetricDistortion')
pack_inputs = dict(type='PackMultiTaskInputs')
test_pipeline = [*load_steps, pack_inputs]
train_dataloader = dict(
    batch_size=8,
    # GPU machine: 8 workers keep a GPU busy (docs/en/user_guides/gpu.md);
    # tools/train.py caps them at the cores per process.
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(split='train'))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    # round_up=False: no duplicated images, so metrics are exact under DDP.
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(split='val', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiTaskMetric')
test_evaluator = val_evaluator
