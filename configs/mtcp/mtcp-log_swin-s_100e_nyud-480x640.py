# Table 4 ablation: log scale projection only (no prioritisation); the
# log(1 + L) loss transform as a per-epoch weight 1 / (1 + mean L).
_base_ = './mtcp_swin-s_100e_nyud-480x640.py'
custom_hooks = [
    dict(type='LPSHook', prioritize=False, scale_projection='log_loss',
         by_epoch=True)
]
