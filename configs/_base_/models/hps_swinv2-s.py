# Hard-parameter sharing on SwinV2-S, the MTL baseline of the CTAL paper's
# transformer setting: the four Swin stages are upsampled to 1/4 and
# concatenated, and each task has a DeepLab-style ASPP head
# (`decoder='aspp'`) and a 1x1 prediction conv.
_base_ = ['./backbones/swinv2-s.py']
model = dict(
    decode_head=dict(
        type='HPSHead', in_channels=[96, 192, 384, 768], in_index=[0, 1, 2, 3],
        channels=64, decoder='aspp', dropout_ratio=0.0, feat_stride=4,
        norm_cfg=_base_.norm_cfg))
