# CompL label-fraction protocol: depth labels of 10% of the training images
# (a deterministic subset drawn from `label_fraction_seed`, logged at start;
# the 10% subset is contained in the 20%/50% ones of the same seed), DenseCL
# on all images. Change label_fraction for 1/2/5/20/50% runs.
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
train_dataloader = dict(
    dataset=dict(dataset=dict(label_fraction=0.1, label_fraction_seed=0)))
