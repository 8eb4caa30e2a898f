# CTAL-SS (single scale) on the CTAL paper's setting on Cityscapes.
_base_ = [
    '../_base_/models/ctal-ss_hrnet18.py',
    '../_base_/datasets/cityscapes_mtl.py',
    '../_base_/schedules/adam-cosine_28k.py', '../_base_/default_runtime.py'
]
model = dict(decode_head=dict(
    tasks=_base_.tasks, num_classes=_base_.num_classes,
    crop_size=_base_.crop_size))
