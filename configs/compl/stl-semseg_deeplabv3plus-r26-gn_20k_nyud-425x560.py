# CompL single-task baseline on NYUD-v2: 40-class semantic segmentation
# (cross-entropy) with the depth baseline's model, schedule and
# augmentations. Evaluated at 480x640 (mIoU).
_base_ = ['./stl-depth_deeplabv3plus-r26-gn_20k_nyud-425x560.py']
tasks = ['semseg']
model = dict(decode_head=dict(tasks=tasks, num_classes=_base_.num_classes))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = test_dataloader = dict(dataset=dict(tasks=tasks))
