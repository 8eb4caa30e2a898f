# CTAL single-scale (CTAL-SS): fused encoder features, one set of initial
# predictions, one CTAL at 1/distill_stride, on ResNet-18.
# CTAL-MS (_base_/models/ctal-ms_*.py) is this model with multi_scale=True.
# CTAL's grouped convolutions have one kernel per position of the
# distillation grid, crop_size / distill_stride: leaves set the head's
# `crop_size` from their dataset config, so the two cannot disagree (a crop
# the stride does not divide is refused at build time).
_base_ = ['./backbones/resnet18.py']
model = dict(
    decode_head=dict(
        type='CTALHead', in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3], in_strides=(4, 8, 16, 32), channels=64,
        multi_scale=False, distill_stride=8, kernel_size=3, gamma=0.05,
        shared_fusion=False, scale_by_hw=False,
        # True: the anchor-chunked affinity path (same results, far less
        # memory; worth it at 1/4 scale of larger inputs, not at 16 x 20)
        memory_efficient=False, chunk_size=128, norm_cfg=_base_.norm_cfg))
