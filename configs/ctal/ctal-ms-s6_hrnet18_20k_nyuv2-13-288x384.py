# CTAL-MS (multi-scale) with distillation at 1/6 instead of 1/4.
_base_ = ['./ctal-ms_hrnet18_20k_nyuv2-13-288x384.py']
model = dict(decode_head=dict(distill_stride=6))
