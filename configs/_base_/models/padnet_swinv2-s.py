# PAD-Net on SwinV2-S (DeepLab-style ASPP final heads): the encoder levels
# fused at the distillation scale
# (1/distill_stride), initial predictions, and element-wise-multiplication
# attention distillation between tasks.
_base_ = ['./backbones/swinv2-s.py']
model = dict(
    decode_head=dict(
        type='PADNetHead', in_channels=[96, 192, 384, 768],
        in_index=[0, 1, 2, 3], in_strides=(4, 8, 16, 32), channels=64,
        distill_stride=4, final_head='aspp', norm_cfg=_base_.norm_cfg))
