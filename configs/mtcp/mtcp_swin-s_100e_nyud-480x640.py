# MT-CP on NYUD-v2 (semseg + depth + normals, 480x640) with the paper's
# optimiser (AdamW, lr 5e-5, weight decay 1e-4, batch 2, poly decay, 100
# epochs as released) and LPS (H = 3 epochs, kappa = 2.5).
#
# Shared representation: the default needs no mmdet -- an ImageNet Swin-S
# with a light pixel decoder (_base_/models/mtcp_swin-s.py). The paper
# instead fine-tunes an ADE20K Mask2Former (Swin-S) and uses its pixel
# embeddings projected by the mask predictions; see README.md.
_base_ = [
    '../_base_/models/mtcp_swin-s.py', '../_base_/datasets/nyud.py',
    '../_base_/default_runtime.py', '../_base_/schedules/adamw-poly_100e.py'
]
model = dict(
    decode_head=dict(tasks=_base_.tasks, num_classes=_base_.num_classes))
custom_hooks = [dict(type='LPSHook', preset='paper', by_epoch=True)]
train_dataloader = dict(
    batch_size=2, sampler=dict(type='DefaultSampler', shuffle=True))
log_processor = dict(by_epoch=True)
