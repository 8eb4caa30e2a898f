# Single-task baseline for edge: the semseg config of this setting with
# the task changed.
_base_ = ['./stl-semseg_swinv2-s_44k_pascal-context-512x512.py']
tasks = ['edge']
model = dict(decode_head=dict(tasks=tasks, num_classes=None))
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(tasks=tasks))
