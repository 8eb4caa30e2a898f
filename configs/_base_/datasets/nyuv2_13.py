# NYUv2-13 (795 train / 654 val, 288x384) in the .npy layout of MTAN /
# LibMTL, the CTAL paper's setting. See docs/en/user_guides/dataset_prepare.md.
_base_ = ['./multitask_loaders.py']
dataset_type = 'NYUv2MTANDataset'
data_root = 'data/nyuv2'
tasks = ['semseg', 'depth', 'normals']
num_classes = dict(semseg=13)
crop_size = (288, 384)

train_pipeline = [
    *_base_.load_steps,
    # MTAN's augmentation: random scale 1.0-1.5 then crop back to 288x384,
    # and horizontal flips (MTAN also divides depth by the scale factor).
    dict(type='MultiTaskRandomResize', scale=(384, 288),
         ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    _base_.random_flip, _base_.pack_inputs
]
dataset_cfg = dict(type=dataset_type, data_root=data_root, tasks=tasks)
train_dataloader = dict(dataset=dict(dataset_cfg, pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dataset_cfg)
# Single-task references: CTAL Table 1 (CNN backbone), STL row:
# SemSeg mIoU 49.23, Depth relErr 0.1636, Normals mErr 23.15.
# Evaluation protocol of MTAN / LibMTL / EMA-Net, which CTAL reports (see
# docs/en/user_guides/metrics.md): mIoU as the nanmean over the classes
# present, a normal is valid when its components do not sum to zero.
val_evaluator = test_evaluator = dict(
    statistics=dict(semseg=dict(absent_class='nanmean'),
                    normals=dict(validity='sum')),
    single_task_baselines=dict(semseg=49.23, depth=0.1636, normals=23.15),
    primary_metrics=dict(semseg='mIoU', depth='abs_rel', normals='mean'))
