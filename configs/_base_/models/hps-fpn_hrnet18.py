# Hard-parameter sharing on HRNet-18 with a shared FPN, the "MT Baseline" of
# the CCR paper (following MTI-Net): ImageNet-pretrained HRNetV2-W18-small-v2
# (MMSegmentation's 'open-mmlab://msra/hrnetv2_w18_small'), an FPN to 256
# channels and one HPSHead decoder per task (1x1 + 3x3 conv-BN-ReLU on the
# concatenated FPN levels), an approximation of the paper's SemanticFPN
# decoders. `auxiliary_losses` is where CCR adds its triplet loss.
_base_ = ['./backbones/hrnet18.py']
model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='open-mmlab://msra/hrnetv2_w18_small')),
    neck=dict(type='FPN', in_channels=[18, 36, 72, 144], out_channels=256,
              num_outs=4),
    decode_head=dict(
        type='HPSHead', in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3], channels=256, num_convs=2, dropout_ratio=0.0,
        norm_cfg=_base_.norm_cfg, feat_stride=4),
    auxiliary_losses=[])
