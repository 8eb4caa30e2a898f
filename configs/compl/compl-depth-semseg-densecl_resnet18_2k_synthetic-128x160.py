# CompL on a multi-task model: depth + semseg (hard parameter sharing) jointly
# trained with DenseCL. With per-task decoders the representation both tasks
# share is the encoder, so DenseCL reads the last backbone stage (512
# channels, stride 32: a 4x4 grid for 128x128 views, used at full resolution).
# No task-specific loss scaling (paper Sec. 4.4).
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
tasks = ['depth', 'semseg']
model = dict(
    decode_head=dict(tasks=tasks, num_classes=_base_.num_classes),
    ssl_tasks=[
        dict(_base_.densecl, in_index=-1, in_channels=512, hid_channels=512,
             num_grid=None, bank_size=_base_.num_aux_images)
    ])
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = test_dataloader = dict(dataset=dict(tasks=tasks))
