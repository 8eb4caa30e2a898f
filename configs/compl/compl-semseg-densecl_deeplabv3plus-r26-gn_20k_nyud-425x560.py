# CompL on NYUD-v2: semantic segmentation jointly trained with DenseCL
# (settings as compl-depth-densecl).
_base_ = ['./compl-depth-densecl_deeplabv3plus-r26-gn_20k_nyud-425x560.py']
tasks = ['semseg']
model = dict(
    decode_head=dict(tasks=tasks, num_classes=dict(semseg=40)),
    ssl_tasks=[
        dict(_base_.densecl, head_task='semseg',
             bank_size=_base_.num_aux_images)
    ])
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(tasks=tasks)
test_evaluator = val_evaluator
