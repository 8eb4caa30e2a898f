# CompL on NYUD-v2: semantic segmentation jointly trained with MoCo v2
# (lambda 0.2, settings as compl-depth-moco).
_base_ = ['./compl-depth-densecl_deeplabv3plus-r26-gn_20k_nyud-425x560.py']
tasks = ['semseg']
model = dict(
    decode_head=dict(tasks=tasks, num_classes=dict(semseg=40)),
    ssl_tasks=[
        dict(_base_.moco, head_task='semseg', bank_size=_base_.num_aux_images)
    ])
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(tasks=tasks)
test_evaluator = val_evaluator
