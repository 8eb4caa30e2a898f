# PAD-Net on HRNet-18: the encoder levels fused at the distillation scale
# (1/distill_stride), initial predictions, and element-wise-multiplication
# attention distillation between tasks.
_base_ = ['./backbones/hrnet18.py']
model = dict(
    decode_head=dict(
        type='PADNetHead', in_channels=[18, 36, 72, 144],
        in_index=[0, 1, 2, 3], in_strides=(4, 8, 16, 32), channels=64,
        distill_stride=4, norm_cfg=_base_.norm_cfg))
