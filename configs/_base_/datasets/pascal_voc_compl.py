# PASCAL VOC 2012 "aug" in CompL's single-task protocol (Kanakis et al.,
# WACV 2023): the paper's baseline augmentations -- random scale in
# [0.5, 2.0] (continuous here: VOC image sizes vary, the paper steps by
# 0.25), crop or pad to 512x512, flip; no photometric distortion.
_base_ = ['./pascal_voc.py']
train_pipeline = [
    *_base_.load_steps,
    dict(type='MultiTaskRandomResize', scale=(512, 512),
         ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=_base_.crop_size),
    _base_.random_flip, _base_.pack_inputs
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
