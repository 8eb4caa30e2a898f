# MT-CP with the paper's kind of shared representation on the synthetic
# dataset: a (small, from scratch) Mask2Former on the ResNet-18 pyramid --
# MSDeformAttn pixel decoder (2 encoder layers), 3 transformer-decoder
# layers, 16 queries, 64 channels -- whose pixel embeddings weighted by the
# summed mask logits feed the MT-CP head. Needs mmdet (requirements/
# optional.txt). The NYUD-v2/PASCAL versions use the ADE20K Swin-S
# Mask2Former of MMSegmentation instead (mtcp-m2f_swin-s_*).
_base_ = [
    './mtcp_resnet18_2k_synthetic-128x160.py',
    '../_base_/models/mask2former_resnet18.py'
]
model = dict(
    decode_head=dict(
        shared_representation=dict(
            type='Mask2FormerRepresentation',
            mask2former=_base_.mask2former,
            mask_activation=None)))
