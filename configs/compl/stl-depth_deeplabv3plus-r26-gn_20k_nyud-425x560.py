# CompL single-task baseline on NYUD-v2: depth with DeepLab-v3+ on a GN
# ResNet-26, L1 loss, 8 images per iteration, 20k iterations (200 epochs of
# the 795 training images), SGD + poly, CompL's baseline augmentations
# (_base_/datasets/nyud_425x560.py). Evaluated at 480x640 (RMSE).
_base_ = [
    '../_base_/models/deeplabv3plus_r26-gn.py',
    '../_base_/datasets/nyud_425x560.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd_20k.py'
]
# Crops of down-scaled images are padded to 425x560 (depth 0 = invalid).
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(tasks=_base_.tasks))
