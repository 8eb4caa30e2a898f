# PAD-Net with SwinV2-S and DeepLab-style final heads on PASCAL-Context
# (512x512, 5 tasks): the CTAL paper's transformer setting (lr 2e-5, 70
# epochs = 4998 / 8 -> 625 iterations x 70 ~= 44k iterations, batch 8,
# cosine annealing). Distillation at 1/8 (64x64): the paper does not give
# the scale for PASCAL-Context; 1/4 (128x128) would make CTAL's 5 x HW x HW
# affinities 16384^2 per task.
_base_ = ['./swinv2-s_distillation_base.py',
          '../_base_/datasets/pascal_context.py']
tasks = ['semseg', 'human_parts', 'saliency', 'normals', 'edge']
head_num_classes = dict(semseg=21, human_parts=7)
max_iters = 44000
model = dict(decode_head=dict(tasks=tasks, num_classes=head_num_classes,
                              distill_stride=8))
optim_wrapper = dict(optimizer=dict(lr=2e-5))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=0.0,
         by_epoch=False, begin=0, end=max_iters)
]
train_dataloader = dict(batch_size=8)
train_cfg = dict(max_iters=max_iters, val_interval=4400)
default_hooks = dict(checkpoint=dict(interval=4400))
