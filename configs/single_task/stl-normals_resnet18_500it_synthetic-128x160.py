# Single-task baseline for normals: the semseg config of this setting with
# the task changed.
_base_ = ['./stl-semseg_resnet18_500it_synthetic-128x160.py']
tasks = ['normals']
model = dict(decode_head=dict(tasks=tasks, num_classes=None))
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(tasks=tasks))
