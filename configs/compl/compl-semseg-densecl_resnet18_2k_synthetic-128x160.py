# CompL: semantic segmentation + DenseCL on the synthetic dataset (same
# DenseCL settings as compl-depth-densecl; the head reads the semseg decoder).
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
tasks = ['semseg']
model = dict(
    decode_head=dict(
        tasks=tasks, num_classes=dict(_delete_=True, semseg=6)),
    ssl_tasks=[
        dict(
            type='DenseCLSSLHead',
            name='densecl',
            loss_weight=0.2,
            head_task='semseg',
            in_channels=64,
            hid_channels=64,
            out_channels=128,
            num_grid=8,
            dense_weight=0.7,
            temperature=0.4,
            momentum=0.999,
            negative_bank='memory_bank',
            bank_size=1000)
    ])
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
