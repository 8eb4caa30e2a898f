# Table 3 ablation: MT-CP without the Spatial Refinement Modules
# (predictions straight from the CFM outputs, no intermediate losses).
_base_ = './mtcp_swin-s_100e_nyud-480x640.py'
model = dict(decode_head=dict(use_srm=False))
