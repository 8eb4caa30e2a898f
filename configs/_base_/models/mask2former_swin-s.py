# The paper's shared representation for MT-CP: MMSegmentation's ADE20K
# Mask2Former (Swin-S), fine-tuned; its pixel embeddings weighted by the
# summed mask logits of the last decoder layer (Mask2FormerRepresentation).
# Needs mmdet (pip install -r requirements/optional.txt). The backbone and
# the Mask2Former head start from the same MMSegmentation checkpoint. Use it
# on a Swin-S MT-CP model (_base_/models/mtcp_swin-s.py):
#   model = dict(backbone=dict(init_cfg=_base_.mask2former_backbone_init),
#                neck=None, decode_head=_base_.mask2former_decode_head)
mask2former_config = 'mmseg::mask2former/mask2former_swin-s_8xb2-160k_ade20k-512x512.py'  # noqa
mask2former_checkpoint = 'https://download.openmmlab.com/mmsegmentation/v0.5/mask2former/mask2former_swin-s_8xb2-160k_ade20k-512x512/mask2former_swin-s_8xb2-160k_ade20k-512x512_20221204_143905-e715144e.pth'  # noqa
mask2former_backbone_init = dict(
    type='Pretrained', checkpoint=mask2former_checkpoint, prefix='backbone.')
# The representation reads the Swin-S stages directly (no FPN neck).
mask2former_decode_head = dict(
    in_channels=[96, 192, 384, 768],
    shared_representation=dict(
        type='Mask2FormerRepresentation',
        mask2former=mask2former_config,
        mask_activation=None,
        pretrained=mask2former_checkpoint))
