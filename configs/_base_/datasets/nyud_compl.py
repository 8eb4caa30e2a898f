# NYUD-v2 (the files of nyud.py) in CompL's single-task protocol (Kanakis et
# al., WACV 2023): one target task (depth here; a config sets its own), 8
# images per iteration, 425x560 crops of images randomly scaled by 0.5..2.0
# in steps of 0.25 and flipped (the paper's "baseline augmentations"; no
# photometric distortion), evaluated at 480x640 without delta_m references.
_base_ = ['./multitask_loaders.py']
dataset_type = 'NYUDMultiTaskDataset'
data_root = 'data/NYUD_MT'
tasks = ['depth']
num_classes = dict(semseg=40)  # for configs with semseg
crop_size = (425, 560)
# 480x640 images x {0.5, 0.75, ..., 2.0}
ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
train_pipeline = [
    *_base_.load_steps,
    dict(type='RandomChoiceResize',
         scales=[(int(640 * r), int(480 * r)) for r in ratios],
         resize_type='MultiTaskResize', keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    _base_.random_flip, _base_.pack_inputs
]
dataset_cfg = dict(type=dataset_type, data_root=data_root, tasks=tasks)
train_dataloader = dict(dataset=dict(dataset_cfg, pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(batch_size=4, dataset=dataset_cfg)
