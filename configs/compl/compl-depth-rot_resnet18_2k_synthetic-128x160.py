# CompL: depth + rotation prediction on the synthetic dataset (lambda 0.05).
# One square auxiliary view per image, rotated by 0/90/180/270 degrees in the
# auxiliary pipeline (RandomRotate90 stores the label).
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
aux_size = 128
rot_pipeline = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(
        type='mmpretrain.RandomResizedCrop',
        scale=aux_size,
        crop_ratio_range=(0.2, 1.0),
        backend='pillow'),
    dict(
        type='RandomApply',
        transforms=[
            dict(
                type='SSLColorJitter',
                brightness=0.4,
                contrast=0.4,
                saturation=0.4,
                hue=0.1)
        ],
        prob=0.8),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
    dict(
        type='mmpretrain.GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=0.5),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomRotate90'),
    dict(type='PackSSLViews', label_key='rotation_label'),
]
train_dataloader = dict(dataset=dict(aux_pipeline=rot_pipeline))
model = dict(
    ssl_tasks=[
        dict(
            type='RotationSSLHead',
            name='rot',
            loss_weight=0.05,
            head_task='depth',
            in_channels=64)
    ])
