# PASCAL-Context multi-task (4998 train / 5105 val) in the toolbox layout
# (PASCAL_MT of MTI-Net / ATRC / InvPT).
# See docs/en/user_guides/dataset_prepare.md.
_base_ = ['./multitask_loaders.py']
dataset_type = 'PascalContextMultiTaskDataset'
data_root = 'data/PASCAL_MT'
tasks = ['semseg', 'human_parts', 'saliency', 'normals', 'edge']
num_classes = dict(semseg=21, human_parts=7)
crop_size = (512, 512)

train_pipeline = [
    *_base_.load_steps,
    # ATRC/InvPT: random scale [0.5, 2.0], crop 512x512 (cat_max_ratio 0.75),
    # flip, photometric distortion. Images are <= 500 px, so (512, 512) x
    # ratio scales them by ~1.02 x ratio.
    dict(type='MultiTaskRandomResize', scale=(512, 512),
         ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    _base_.random_flip, _base_.photo_metric_distortion, _base_.pack_inputs
]
dataset_cfg = dict(type=dataset_type, data_root=data_root, tasks=tasks)
train_dataloader = dict(
    batch_size=6,
    dataset=dict(
        dataset_cfg,
        # 255: images without person parts are ignored for human_parts (as
        # the toolbox evaluates); 0 trains them as background (toolbox).
        human_parts_no_person=255,
        pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(
    batch_size=6, dataset=dataset_cfg)
# Single-task references for delta_m: CTAL (2024) Table 3, STL row
# (transformer backbone): SemSeg 74.07, HPSeg 64.28, Sal maxF 83.95,
# Normals mErr 16.03, Edge loss 0.0241. Replace with your HRNet-18
# single-task runs (configs/single_task) for HRNet-18 comparisons.
# Edge ODS-F: maxDist 0.0075 (SEISM default).
# Evaluation protocol of the toolbox / ATRC / InvPT family (see
# docs/en/user_guides/metrics.md, the task table's default statistics):
# absent classes count as IoU 0, a normal is valid when any component is
# non-zero, saliency max-F as ATRC defines it
# ('invpt' reproduces the double-sigmoid numbers of InvPT and later papers).
val_evaluator = test_evaluator = dict(
    single_task_baselines=dict(semseg=74.07, human_parts=64.28,
                               saliency=83.95, normals=16.03, edge=0.0241),
    primary_metrics=dict(semseg='mIoU', human_parts='mIoU',
                         saliency='maxF', normals='mean', edge='loss'))
# The papers' final edge numbers (ODS-F / OIS-F / AP): SEISM as ATRC / InvPT
# run it (protocol='seism': 8-bit map, NMS, '> t', thinning, exact
# one-to-one matching), 99 thresholds, maxDist 0.0075. It runs on the CPU, so
# configs add it to the test evaluator only:
#   test_evaluator = dict(extra_statistics=dict(edge=[_base_.seism_edge]))
seism_edge = dict(type='BoundaryFStatistic', protocol='seism', thresholds=99,
                  max_dist=0.0075)
