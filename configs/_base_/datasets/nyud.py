# NYUD-v2 (795 train / 654 val, 480x640) in the multi-task toolbox layout
# (MTI-Net / ATRC / InvPT / CCR / MT-CP).
# See docs/en/user_guides/dataset_prepare.md.
_base_ = ['./multitask_loaders.py']
dataset_type = 'NYUDMultiTaskDataset'
data_root = 'data/NYUD_MT'
# CCR/MTI-Net evaluate semseg, depth and normals; add 'edge' for 4 tasks
# (then give an edge baseline below and enable the ODS-F statistic).
tasks = ['semseg', 'depth', 'normals']
num_classes = dict(semseg=40)
# ATRC/InvPT training crop (their NYUD images are padded to 448x576 at test
# time; we evaluate at the native 480x640).
crop_size = (448, 576)

train_pipeline = [
    *_base_.load_steps,
    # ATRC/InvPT: continuous random scale in [0.5, 2.0] of the image
    # (scale (640, 480) x ratio keeps the factor exact for 480x640 inputs).
    # Note: they also divide depth by the scale factor; MultiTaskRandomResize
    # keeps metric depth unchanged.
    dict(type='MultiTaskRandomResize', scale=(640, 480),
         ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    _base_.random_flip, _base_.photo_metric_distortion, _base_.pack_inputs
]
dataset_cfg = dict(type=dataset_type, data_root=data_root, tasks=tasks)
# label_fraction=0.1, label_fraction_seed=0 in the train dataset: CompL-style
# labelled subsets.
train_dataloader = dict(
    batch_size=4, dataset=dict(dataset_cfg, pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(
    batch_size=4, dataset=dataset_cfg)
# Single-task HRNet-18 references for delta_m: CCR (AAAI 2023) Table 1,
# "ST Baseline": SemSeg mIoU 39.803, Depth RMSE 0.617, Normal mErr 19.896.
# Edge on NYUD: ODS-F with maxDist 0.011 (ATRC/InvPT), see
# mmmtl/evaluation/statistics/boundary_f.py.
# Evaluation protocol of the toolbox / ATRC / InvPT family (see
# docs/en/user_guides/metrics.md, the task table's default statistics): absent
# classes count as IoU 0, a normal is valid when any component is non-zero.
val_evaluator = test_evaluator = dict(
    single_task_baselines=dict(semseg=39.803, depth=0.617, normals=19.896),
    primary_metrics=dict(semseg='mIoU', depth='rmse', normals='mean'))
