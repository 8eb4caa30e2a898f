# MT-CP on ResNet-18 (from scratch): the encoder pyramid feeds the MT-CP
# head's light pixel decoder (64 channels, no Mask2Former, no mmdet), small
# enough for a CPU. A config names the tasks and classes:
#   model = dict(decode_head=dict(tasks=..., num_classes=...))
_base_ = ['./backbones/resnet18.py']
model = dict(
    # Eq. (7): the LPS weights scale the final predictions' losses only.
    weight_deep_supervision=False,
    decode_head=dict(
        type='MTCPHead',
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        channels=64,
        depths=(1, 2, 1),
        num_heads=(2, 2, 2),
        window_size=8,
        use_cfm=True,
        use_srm=True,
        coherence_loss=True,
        coherence_loss_weight=1.0,
        # attention over all 32x40 = 1280 positions of the 1/4 map
        cfm_cfg=dict(attn_scale=False, residual=False, attn_downsample=1),
        cbam_cfg=dict(reduction=16, spatial_kernel_size=7),
        deep_supervision_weight=0.5,
        norm_cfg=_base_.norm_cfg,
        feat_stride=4))
