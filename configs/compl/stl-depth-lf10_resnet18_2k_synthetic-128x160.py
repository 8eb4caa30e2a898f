# Baseline of the CompL label-fraction study: single-task depth trained on the
# same 10% subset as compl-depth-densecl-lf10 (same seed), no auxiliary task.
_base_ = ['../single_task/stl-depth_resnet18_2k_synthetic-128x160.py']
train_dataloader = dict(
    dataset=dict(label_fraction=0.1, label_fraction_seed=0))
