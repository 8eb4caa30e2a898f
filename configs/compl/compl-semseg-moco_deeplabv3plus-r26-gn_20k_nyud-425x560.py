# CompL on NYUD-v2: semantic segmentation jointly trained with MoCo v2
# (lambda 0.2, settings as compl-depth-moco).
_base_ = ['./compl-depth-densecl_deeplabv3plus-r26-gn_20k_nyud-425x560.py']
tasks = ['semseg']
model = dict(
    decode_head=dict(tasks=tasks, num_classes=_base_.num_classes),
    ssl_tasks=[dict(_base_.moco, head_task='semseg', bank_size=795)])
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = test_dataloader = dict(dataset=dict(tasks=tasks))
