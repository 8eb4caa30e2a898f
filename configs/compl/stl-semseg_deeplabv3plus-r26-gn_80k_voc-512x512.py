# CompL single-task baseline on PASCAL VOC 2012 "aug" (10,582 train / 1,449
# val): 21-class semantic segmentation with DeepLab-v3+ on a GN ResNet-26,
# 512x512 crops, 8 images per iteration, 80k iterations (60 epochs), SGD +
# poly. The paper's baseline augmentations: random scale in [0.5, 2.0]
# (continuous here: VOC image sizes vary, the paper steps by 0.25), crop or
# pad to 512x512, flip; no photometric distortion. Evaluated on whole val
# images (mIoU).
_base_ = [
    '../_base_/models/deeplabv3plus_r26-gn.py',
    '../_base_/datasets/pascal_voc.py', '../_base_/default_runtime.py',
    '../_base_/schedules/sgd-poly_20k.py'
]
tasks = ['semseg']
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(
        type='MultiTaskRandomResize',
        scale=(512, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='MultiTaskRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(tasks=tasks, num_classes=dict(semseg=21)))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=80000,
         by_epoch=False)
]
train_cfg = dict(max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
