# Hard-parameter sharing on HRNet-18, the MTL baseline of the CTAL paper's
# CNN setting: the encoder levels are upsampled to 1/4 and concatenated, and
# each task has the paper's output head (a 3x3 fusion conv and two residual
# bottlenecks, `decoder='residual'`, shared with the distillation models as
# the paper requires) and a 1x1 prediction conv.
_base_ = ['./backbones/hrnet18.py']
model = dict(
    decode_head=dict(
        type='HPSHead', in_channels=[18, 36, 72, 144], in_index=[0, 1, 2, 3],
        channels=64, decoder='residual', dropout_ratio=0.0, feat_stride=4,
        norm_cfg=_base_.norm_cfg))
