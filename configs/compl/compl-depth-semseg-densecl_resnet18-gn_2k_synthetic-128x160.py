# compl-depth-semseg-densecl with GroupNorm instead of BatchNorm in the
# backbone and the decoders, as CompL does against intra-batch information
# leakage in contrastive learning; from scratch (BN ImageNet checkpoints do
# not fit GN layers, see README.md "GroupNorm").
_base_ = ['./compl-depth-semseg-densecl_resnet18_2k_synthetic-128x160.py']
norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
model = dict(
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(norm_cfg=norm_cfg))
