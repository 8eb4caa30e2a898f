# MT-CP (Fontana et al., WACV 2025) on an ImageNet Swin-S: a light pixel
# decoder (an FPN neck to 256 channels, then the head's upsample-concatenate-
# 1x1 projection at 1/4) as the shared representation, and the MT-CP head
# (mtcp_head.py). The paper's Mask2Former representation:
# _base_/models/mask2former_swin-s.py.
# A config passes its dataset's tasks and num_classes to the head.
_base_ = ['./backbones/swin-s.py', './mtcp_head.py']
model = dict(
    neck=dict(
        type='FPN',
        in_channels=[96, 192, 384, 768],
        out_channels=256,
        num_outs=4),
    decode_head=dict(
        _base_.mtcp_head,
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        channels=256,
        window_size=7,
        norm_cfg=_base_.norm_cfg),
    # Eq. (7): the LPS weights scale the final predictions' losses only.
    weight_deep_supervision=False)
