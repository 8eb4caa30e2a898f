# MT-CP (coherence fusion + trace-back head) with the LPS loss-prioritisation
# hook on the embedded synthetic dataset (five tasks, ResNet-18 from
# scratch, CPU friendly). The shared representation is the head's light
# pixel decoder over the ResNet pyramid (no Mask2Former, no mmdet).
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/adamw-poly_2k.py'
]
tasks = ['semseg', 'depth', 'normals', 'edge', 'saliency']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    # Eq. (7): the LPS weights scale the final predictions' losses only.
    weight_deep_supervision=False,
    decode_head=dict(
        _delete_=True,
        type='MTCPHead',
        tasks=tasks,
        in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3],
        num_classes=dict(semseg=6),
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
        norm_cfg=norm_cfg,
        feat_stride=4))
# LPS on an iteration schedule: one window = one pass over the 1000 training
# images (125 iterations of batch 8), history H = 3 windows, kappa = 2.5.
custom_hooks = [
    dict(type='LPSHook', preset='paper', by_epoch=False, interval=125)
]
val_evaluator = dict(type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
