# MTI-Net on the CTAL paper's setting on NYUv2-13.
_base_ = [
    '../_base_/models/mtinet_hrnet18.py', '../_base_/datasets/nyuv2_13.py',
    '../_base_/schedules/adam-cosine_20k.py', '../_base_/default_runtime.py'
]
model = dict(decode_head=dict(
    tasks=_base_.tasks, num_classes=_base_.num_classes))
