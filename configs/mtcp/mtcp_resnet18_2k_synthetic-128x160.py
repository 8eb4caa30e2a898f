# MT-CP (coherence fusion + trace-back head) with the LPS loss-prioritisation
# hook on the embedded synthetic dataset (five tasks, ResNet-18 from
# scratch, CPU friendly). The shared representation is the head's light
# pixel decoder over the ResNet pyramid (no Mask2Former, no mmdet).
_base_ = [
    '../_base_/models/mtcp_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/adamw-poly_2k.py'
]
model = dict(
    decode_head=dict(tasks=_base_.tasks, num_classes=_base_.num_classes))
# LPS on an iteration schedule: one window = one pass over the 1000 training
# images (125 iterations of batch 8), history H = 3 windows, kappa = 2.5.
custom_hooks = [
    dict(type='LPSHook', preset='paper', by_epoch=False, interval=125)
]
