# PASCAL VOC 2012 semantic segmentation: 10,582 "train_aug" images (VOC +
# SBD, MMSegmentation's tools/dataset_converters/voc_aug.py) / 1,449 val.
# See docs/en/user_guides/dataset_prepare.md.
_base_ = ['./multitask_loaders.py']
dataset_type = 'PascalVOCMultiTaskDataset'
data_root = 'data/VOCdevkit/VOC2012'
tasks = ['semseg']
num_classes = dict(semseg=21)
crop_size = (512, 512)

train_pipeline = [
    *_base_.load_steps,
    # MMSegmentation's VOC recipe: scale 2048x512 x [0.5, 2.0], 512 crop.
    dict(type='MultiTaskRandomResize', scale=(2048, 512),
         ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    _base_.random_flip, _base_.photo_metric_distortion, _base_.pack_inputs
]
dataset_cfg = dict(type=dataset_type, data_root=data_root, tasks=tasks)
train_dataloader = dict(
    num_workers=4,
    pin_memory=False,
    dataset=dict(dataset_cfg, split='aug', ann_dir='SegmentationClassAug',
                 pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(
    batch_size=1,
    pin_memory=False,
    dataset=dict(dataset_cfg, ann_dir='SegmentationClass'))
# mIoU over all 21 classes, an absent class counting as 0 (the toolbox
# convention; every class occurs in the VOC val set, so MMSegmentation's
# nanmean gives the same number).
