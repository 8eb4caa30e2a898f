# CompL on a multi-task model: depth + semseg (hard parameter sharing) jointly
# trained with DenseCL. With per-task decoders the representation both tasks
# share is the encoder, so DenseCL reads the last backbone stage (512
# channels, stride 32: a 4x4 grid for 128x128 views, used at full resolution).
# No task-specific loss scaling (paper Sec. 4.4).
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
tasks = ['depth', 'semseg']
model = dict(
    decode_head=dict(
        tasks=tasks, num_classes=dict(_delete_=True, semseg=6)),
    ssl_tasks=[
        dict(
            type='DenseCLSSLHead',
            name='densecl',
            loss_weight=0.2,
            in_index=-1,
            in_channels=512,
            hid_channels=512,
            out_channels=128,
            num_grid=None,
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
