# CompL: semantic segmentation + MoCo v2 (queue of 512 negatives, as
# compl-depth-moco).
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
tasks = ['semseg']
model = dict(
    decode_head=dict(tasks=tasks, num_classes=_base_.num_classes),
    ssl_tasks=[
        dict(_base_.moco, head_task='semseg', in_channels=64, hid_channels=64,
             temperature=0.2, negative_bank='queue', bank_size=512)
    ])
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = test_dataloader = dict(dataset=dict(tasks=tasks))
