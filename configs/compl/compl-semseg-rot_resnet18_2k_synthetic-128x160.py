# CompL: semantic segmentation + rotation prediction (lambda 0.05).
_base_ = ['./compl-depth-rot_resnet18_2k_synthetic-128x160.py']
tasks = ['semseg']
model = dict(
    decode_head=dict(
        tasks=tasks, num_classes=dict(_delete_=True, semseg=6)),
    ssl_tasks=[
        dict(
            type='RotationSSLHead',
            name='rot',
            loss_weight=0.05,
            head_task='semseg',
            in_channels=64)
    ])
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
