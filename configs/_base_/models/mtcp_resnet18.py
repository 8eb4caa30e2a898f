# MT-CP on ResNet-18 (from scratch): the encoder pyramid feeds the MT-CP
# head's light pixel decoder (64 channels, no Mask2Former, no mmdet), small
# enough for a CPU. A config passes its dataset's tasks and num_classes to
# the head.
_base_ = ['./backbones/resnet18.py', './mtcp_head.py']
model = dict(
    # Eq. (7): the LPS weights scale the final predictions' losses only.
    weight_deep_supervision=False,
    decode_head=dict(
        _base_.mtcp_head,
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        channels=64,
        window_size=8,  # windows of the 32x40 1/4 map
        norm_cfg=_base_.norm_cfg))
