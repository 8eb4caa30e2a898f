# CTAL single-scale (CTAL-SS): fused encoder features, one set of initial
# predictions, one CTAL at 1/distill_stride, on HRNet-18.
# CTAL-MS (_base_/models/ctal-ms_*.py) is this model with multi_scale=True.
# CTAL's grouped convolutions have one kernel per position of the
# distillation grid, crop_size / distill_stride: leaves set the head's
# `crop_size` from their dataset config, so the two cannot disagree (a crop
# the stride does not divide is refused at build time).
_base_ = ['./backbones/hrnet18.py']
model = dict(
    decode_head=dict(
        type='CTALHead', in_channels=[18, 36, 72, 144], in_index=[0, 1, 2, 3],
        in_strides=(4, 8, 16, 32), channels=64, multi_scale=False,
        distill_stride=4, kernel_size=3, gamma=0.05, shared_fusion=False,
        scale_by_hw=False,
        # anchor-chunked affinity path: same results, a fraction of the
        # memory of the dense N x HW x HW tensors at 1/4 scale
        memory_efficient=True, chunk_size='auto', norm_cfg=_base_.norm_cfg))
