# CompL: semantic segmentation + DenseCL on the synthetic dataset (same
# DenseCL settings as compl-depth-densecl; the head reads the semseg decoder).
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
tasks = ['semseg']
model = dict(
    # _delete_: the depth-only parent has num_classes=None
    decode_head=dict(tasks=tasks, num_classes=dict(_delete_=True, semseg=6)),
    # the parent's DenseCL head, reading the semseg decoder
    ssl_tasks=[dict(_base_.model.ssl_tasks[0], head_task='semseg')])
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = test_dataloader = dict(dataset=dict(tasks=tasks))
val_evaluator = test_evaluator = dict(tasks=tasks)
