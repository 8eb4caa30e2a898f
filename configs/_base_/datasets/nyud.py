# NYUD-v2 (795 train / 654 val, 480x640) in the multi-task toolbox layout
# (MTI-Net / ATRC / InvPT / CCR / MT-CP).
# See docs/en/user_guides/dataset_prepare.md.
dataset_type = 'NYUDMultiTaskDataset'
data_root = 'data/NYUD_MT'
# CCR/MTI-Net evaluate semseg, depth and normals; add 'edge' for 4 tasks
# (then give an edge baseline below and enable the ODS-F statistic).
tasks = ['semseg', 'depth', 'normals']
# ATRC/InvPT training crop (their NYUD images are padded to 448x576 at test
# time; we evaluate at the native 480x640).
crop_size = (448, 576)

train_pipeline = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='LoadMultiTaskAnnotations'),
    # ATRC/InvPT: continuous random scale in [0.5, 2.0] of the image
    # (scale (640, 480) x ratio keeps the factor exact for 480x640 inputs).
    # Note: they also divide depth by the scale factor; MultiTaskRandomResize
    # keeps metric depth unchanged.
    dict(type='MultiTaskRandomResize', scale=(640, 480),
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
    batch_size=4,
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
        # label_fraction=0.1, label_fraction_seed=0,  # CompL-style subsets
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        tasks=tasks,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# Single-task HRNet-18 references for delta_m: CCR (AAAI 2023) Table 1,
# "ST Baseline": SemSeg mIoU 39.803, Depth RMSE 0.617, Normal mErr 19.896.
# Edge on NYUD: ODS-F with maxDist 0.011 (ATRC/InvPT), see
# mmmtl/evaluation/statistics/boundary_f.py.
# Evaluation protocol of the toolbox / ATRC / InvPT family (see
# docs/en/user_guides/metrics.md, the task table's default statistics): absent
# classes count as IoU 0, a normal is valid when any component is non-zero.
val_evaluator = dict(
    type='MultiTaskMetric',
    tasks=tasks,
    single_task_baselines=dict(semseg=39.803, depth=0.617, normals=19.896),
    primary_metrics=dict(semseg='mIoU', depth='rmse', normals='mean'))
test_evaluator = val_evaluator
