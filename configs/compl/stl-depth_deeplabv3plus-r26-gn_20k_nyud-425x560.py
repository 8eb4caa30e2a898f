# CompL single-task baseline on NYUD-v2: depth (L1, RMSE) with DeepLab-v3+
# on a GN ResNet-26, CompL's data protocol, 20k SGD iterations of 8 images.
_base_ = [
    '../_base_/models/deeplabv3plus_r26-gn.py',
    '../_base_/datasets/nyud_compl.py', '../_base_/default_runtime.py',
    '../_base_/schedules/sgd-poly_20k.py'
]
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),  # pad crops to 425x560
    decode_head=dict(tasks=_base_.tasks))
