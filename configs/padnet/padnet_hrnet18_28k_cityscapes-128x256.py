# PAD-Net with HRNet-W18-small-v2 on Cityscapes (128x256, 19 classes + depth):
# the CTAL paper's setting (lr 5e-4, 75 epochs = 2975 / 8 -> 372 iterations x
# 75 ~= 28k iterations, cosine annealing).
_base_ = ['./hrnet18_distillation_base.py',
          '../_base_/datasets/cityscapes_mtl.py']
tasks = ['semseg', 'depth']
head_num_classes = dict(semseg=19)
max_iters = 28000
model = dict(decode_head=dict(tasks=tasks, num_classes=head_num_classes))
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=0.0,
         by_epoch=False, begin=0, end=max_iters)
]
train_cfg = dict(max_iters=max_iters, val_interval=2800)
default_hooks = dict(checkpoint=dict(interval=2800))
