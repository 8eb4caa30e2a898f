# CompL: semantic segmentation + DenseCL (as compl-depth-densecl).
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
tasks = ['semseg']
model = dict(
    decode_head=dict(tasks=tasks, num_classes=_base_.num_classes),
    ssl_tasks=[dict(_base_.model.ssl_tasks[0], head_task='semseg')])
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = test_dataloader = dict(dataset=dict(tasks=tasks))
