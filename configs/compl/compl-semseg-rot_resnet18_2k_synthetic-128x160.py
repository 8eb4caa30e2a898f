# CompL: semantic segmentation + rotation prediction (lambda 0.05, as
# compl-depth-rot).
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
tasks = ['semseg']
model = dict(
    decode_head=dict(tasks=tasks, num_classes=_base_.num_classes),
    ssl_tasks=[dict(_base_.rot, head_task='semseg', in_channels=64)])
train_dataloader = dict(
    dataset=dict(aux_pipeline=_base_.rot_pipeline, dataset=dict(tasks=tasks)))
val_dataloader = test_dataloader = dict(dataset=dict(tasks=tasks))
