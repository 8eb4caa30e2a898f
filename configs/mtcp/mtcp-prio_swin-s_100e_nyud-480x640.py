# Table 4 ablation: loss prioritisation only (no log scale projection).
_base_ = './mtcp_swin-s_100e_nyud-480x640.py'
custom_hooks = [
    dict(type='LPSHook', scale_projection='none', by_epoch=True)
]
