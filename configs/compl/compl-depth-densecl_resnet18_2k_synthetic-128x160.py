# CompL (Kanakis et al., WACV 2023): depth jointly trained with DenseCL on the
# synthetic dataset. Target batch: 8 labelled images with the baseline
# augmentations (as the single-task depth baseline); auxiliary batch: 8
# independently drawn images (all of the training set), two MoCo-v2-style
# views each. The DenseCL head reads the depth decoder's output (the paper
# branches the auxiliary head after the decoder) and is dropped at test time.
# Negatives: a memory bank with one slot per training image, own slot masked,
# temperature 0.4, dense loss mix 0.7, grid 8 -- the authors' released
# settings (their VISSL configs); lambda 0.2 as in the paper.
_base_ = ['../single_task/stl-depth_resnet18_2k_synthetic-128x160.py']
tasks = ['depth']
data_root = 'data/synthetic'
generator_cfg = dict(
    num_train=1000, num_val=200, height=128, width=160, seed=0,
    num_workers=2)
num_aux_images = 1000  # == generator_cfg['num_train']: memory-bank size
aux_size = 128  # square auxiliary views

# Target pipeline: unchanged baseline augmentations.
train_pipeline = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(
        type='MultiTaskRandomResize',
        scale=(160, 128),
        ratio_range=(1.0, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=(128, 160)),
    dict(type='MultiTaskRandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackMultiTaskInputs'),
]
# Auxiliary views: MoCo v2 augmentations (mmpretrain/mmcv transforms; the
# images are BGR, hence the grayscale channel weights).
view_pipeline = [
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
]
aux_pipeline = [
    dict(type='LoadMultiTaskImageFromFile'),
    dict(type='mmpretrain.MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackSSLViews'),
]
train_dataloader = dict(
    batch_size=8,  # 8 target + 8 auxiliary images per iteration
    dataset=dict(
        _delete_=True,
        type='CompositeDataset',
        dataset=dict(
            type='SyntheticMultiTaskDataset',
            data_root=data_root,
            split='train',
            tasks=tasks,
            generator_cfg=generator_cfg,
            pipeline=train_pipeline),
        aux_pipeline=aux_pipeline,
        seed=0))

model = dict(
    ssl_tasks=[
        dict(
            type='DenseCLSSLHead',
            name='densecl',
            loss_weight=0.2,
            head_task='depth',
            in_channels=64,  # decode_head.channels
            hid_channels=64,
            out_channels=128,
            num_grid=8,
            dense_weight=0.7,
            temperature=0.4,
            momentum=0.999,
            negative_bank='memory_bank',
            bank_size=num_aux_images)
    ])
