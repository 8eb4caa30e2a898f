# LPS with the released code's settings (kappa 7.5, history 1 epoch, no
# log projection), for comparison with the paper's (kappa 2.5, H = 3).
_base_ = './mtcp_swin-s_100e_nyud-480x640.py'
custom_hooks = [dict(type='LPSHook', preset='released', by_epoch=True)]
