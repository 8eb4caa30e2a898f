# The MT-CP head (Fontana et al., WACV 2025) with the paper's settings, for
# the MT-CP models of any backbone (mtcp_swin-s.py, mtcp_resnet18.py), which
# add its inputs, width and window size: per task a window-transformer
# decoder of depths (1, 2, 1) with 2 heads, the coherence fusion module
# (CFM, with its cosine coherence loss) and the spatial refinement
# (trace-back) modules whose intermediate predictions are weighted 0.5.
# `attn_downsample` > 1 pools the CFM's keys/values (the full HW x HW
# attention of a 480x640 image's 1/4 map is 1.5 GB per image in fp32 unless
# the GPU's fused attention kernels apply).
mtcp_head = dict(
    type='MTCPHead',
    depths=(1, 2, 1),
    num_heads=(2, 2, 2),
    use_cfm=True,
    use_srm=True,
    coherence_loss=True,
    coherence_loss_weight=1.0,
    cfm_cfg=dict(attn_scale=False, residual=False, attn_downsample=1),
    cbam_cfg=dict(reduction=16, spatial_kernel_size=7),
    deep_supervision_weight=0.5,
    feat_stride=4)
