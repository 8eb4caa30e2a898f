# Hard-parameter sharing on ResNet-18: the shared encoder and one small
# decoder per task (HPSHead: a 1x1 and a 3x3 conv-norm-act on the
# concatenated encoder levels, then a 1x1 prediction). Leaves set the head's
# `tasks` and `num_classes` from their dataset config.
_base_ = ['./backbones/resnet18.py']
model = dict(
    decode_head=dict(
        type='HPSHead', in_channels=[64, 128, 256, 512], in_index=[0, 1, 2, 3],
        channels=64, num_convs=2, dropout_ratio=0.0, norm_cfg=_base_.norm_cfg,
        feat_stride=4))
