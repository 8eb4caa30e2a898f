# Table 3 ablation: MT-CP without CFM and SRM.
_base_ = './mtcp_swin-s_100e_nyud-480x640.py'
model = dict(decode_head=dict(use_cfm=False, use_srm=False))
