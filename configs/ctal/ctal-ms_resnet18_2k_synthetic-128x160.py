# CTAL-MS (multi-scale) on the synthetic dataset (CPU).
_base_ = [
    '../_base_/models/ctal-ms_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adamw-poly_2k.py', '../_base_/default_runtime.py'
]
model = dict(decode_head=dict(
    tasks=_base_.tasks, num_classes=_base_.num_classes,
    crop_size=_base_.crop_size))
