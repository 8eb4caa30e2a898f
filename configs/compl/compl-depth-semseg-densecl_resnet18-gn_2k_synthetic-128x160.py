# compl-depth-semseg-densecl with GroupNorm instead of BatchNorm in the
# backbone and the decoders, as CompL does to avoid intra-batch information
# leakage in contrastive learning (the key encoder's BN would otherwise see
# the whole batch). Trained from scratch here. NOTE: ImageNet checkpoints
# trained with BN (torchvision / open-mmlab ResNets) are not loadable into GN
# layers -- running statistics have no GN counterpart and the affine
# parameters were learnt for BN; the segmentor warns if a GN backbone is given
# such a checkpoint. Use GN-pretrained weights (the authors use a GN
# ResNet-26).
_base_ = ['./compl-depth-semseg-densecl_resnet18_2k_synthetic-128x160.py']
norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
model = dict(
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(norm_cfg=norm_cfg))
