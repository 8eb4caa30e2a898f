# Cityscapes (2975 train / 500 val, 128x256) in the .npy layout of MTAN /
# LibMTL, the CTAL paper's setting. See docs/en/user_guides/dataset_prepare.md.
_base_ = ['./multitask_loaders.py']
dataset_type = 'CityscapesMTANDataset'
data_root = 'data/cityscapes'
tasks = ['semseg', 'depth']
num_classes = dict(semseg=19)  # CTAL uses 19 classes; MTAN/LibMTL default 7
crop_size = (128, 256)

train_pipeline = [
    *_base_.load_steps,
    dict(type='MultiTaskRandomResize', scale=(256, 128),
         ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    _base_.random_flip, _base_.pack_inputs
]
dataset_cfg = dict(type=dataset_type, data_root=data_root, tasks=tasks,
                   num_classes=num_classes['semseg'])
train_dataloader = dict(dataset=dict(dataset_cfg, pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dataset_cfg)
# Single-task references: CTAL Table 1 (CNN backbone), STL row:
# SemSeg mIoU 48.89, Depth relErr 29.91 (relative error of the distributed
# disparity values, as MTAN reports it; not a percentage).
# Evaluation protocol of MTAN / LibMTL / EMA-Net, which CTAL reports (see
# docs/en/user_guides/metrics.md): mIoU as the nanmean over present classes.
val_evaluator = test_evaluator = dict(
    statistics=dict(semseg=dict(absent_class='nanmean')),
    single_task_baselines=dict(semseg=48.89, depth=29.91),
    primary_metrics=dict(semseg='mIoU', depth='abs_rel'))
