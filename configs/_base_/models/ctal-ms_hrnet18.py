# CTAL multi-scale (CTAL-MS) on HRNet-18: the CTAL-SS model with
# deep-supervised initial predictions at every encoder scale and per-task
# cross-scale fusion before the one CTAL at 1/distill_stride.
_base_ = ['./ctal-ss_hrnet18.py']
model = dict(decode_head=dict(multi_scale=True))
