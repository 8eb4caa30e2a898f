# CTAL-MS (multi-scale) with distillation at 1/8 instead of 1/4 (the _base_
# files of ctal-ms_hrnet18_20k_nyuv2-13-288x384.py: its model file already
# inherits the CTAL-SS one, and configs stay three levels deep).
_base_ = [
    '../_base_/models/ctal-ms_hrnet18.py', '../_base_/datasets/nyuv2_13.py',
    '../_base_/schedules/adam-cosine_20k.py', '../_base_/default_runtime.py'
]
model = dict(decode_head=dict(
    tasks=_base_.tasks, num_classes=_base_.num_classes,
    crop_size=_base_.crop_size, distill_stride=8))
