# MT-CP on NYUD-v2 with the paper's shared representation: the ADE20K
# Mask2Former (Swin-S) of MMSegmentation, fine-tuned
# (_base_/models/mask2former_swin-s.py; needs mmdet). Everything else
# (optimiser, LPS, schedule) as mtcp_swin-s_100e_nyud-480x640.py.
_base_ = ['./mtcp_swin-s_100e_nyud-480x640.py',
          '../_base_/models/mask2former_swin-s.py']
model = dict(backbone=dict(init_cfg=_base_.mask2former_backbone_init),
             neck=None, decode_head=_base_.mask2former_decode_head)
