# Table 4 ablation: equal task weights (no LPS).
_base_ = './mtcp_swin-s_100e_nyud-480x640.py'
custom_hooks = [dict(type='EqualWeightingHook', by_epoch=True)]
