# MTI-Net on HRNet-18: multi-scale initial predictions with deep supervision,
# feature propagation between scales, per-scale distillation and
# aggregation at 1/4.
_base_ = ['./backbones/hrnet18.py']
model = dict(
    decode_head=dict(
        type='MTINetHead', in_channels=[18, 36, 72, 144],
        in_index=[0, 1, 2, 3], in_strides=(4, 8, 16, 32), channels=64,
        feature_propagation=True, norm_cfg=_base_.norm_cfg))
