# CompL single-task baseline on PASCAL VOC 2012 "aug" (10,582 train / 1,449
# val): 21-class semantic segmentation with DeepLab-v3+ on a GN ResNet-26,
# 512x512 crops, 8 images per iteration, SGD + poly over 80k iterations,
# CompL's augmentations. Evaluated on whole val images (mIoU).
_base_ = [
    '../_base_/models/deeplabv3plus_r26-gn.py',
    '../_base_/datasets/pascal_voc_compl.py', '../_base_/default_runtime.py',
    '../_base_/schedules/sgd-poly_80k.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(tasks=_base_.tasks, num_classes=_base_.num_classes))
