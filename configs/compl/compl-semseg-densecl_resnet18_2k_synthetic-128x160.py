# CompL: semantic segmentation + DenseCL on the synthetic dataset (same
# DenseCL settings as compl-depth-densecl; the head reads the semseg decoder).
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
tasks = ['semseg']
model = dict(
    # _delete_: the depth-only parent has num_classes=None
    decode_head=dict(tasks=tasks, num_classes=dict(_delete_=True, semseg=6)),
    ssl_tasks=[
        dict(_base_.densecl, head_task='semseg',
             bank_size=_base_.num_aux_images)
    ])
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(tasks=tasks)
test_evaluator = val_evaluator
