# CompL (Kanakis et al., WACV 2023) on the synthetic dataset: depth jointly
# trained with DenseCL (_base_/models/compl_ssl_heads.py) on the 64-channel
# depth decoder; 8 target + 8 auxiliary images (two views each) an iteration.
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/models/compl_ssl_heads.py',
    '../_base_/datasets/synthetic.py', '../_base_/datasets/compl_aux_views.py',
    '../_base_/default_runtime.py', '../_base_/schedules/adamw-poly_2k.py'
]
tasks = ['depth']
num_aux_images = 1000  # == generator_cfg['num_train']: memory-bank size
# The views of compl_aux_views.py at 128x128 (the images are 128x160).
aux_size = 128
view_pipeline = [dict(_base_.view_pipeline[0], scale=aux_size),
                 *_base_.view_pipeline[1:]]
aux_pipeline = [dict(t, transforms=[view_pipeline]) if 'transforms' in t else t
                for t in _base_.aux_pipeline]
rot_pipeline = [_base_.rot_pipeline[0], *view_pipeline,
                *_base_.rot_pipeline[-2:]]
model = dict(
    decode_head=dict(tasks=tasks),
    ssl_tasks=[
        dict(_base_.densecl, head_task='depth', in_channels=64,
             hid_channels=64, bank_size=num_aux_images)
    ])
train_dataloader = dict(dataset=dict(
    _delete_=True, type='CompositeDataset', seed=0, aux_pipeline=aux_pipeline,
    dataset=dict(_base_.train_dataloader.dataset, tasks=tasks)))
val_dataloader = test_dataloader = dict(dataset=dict(tasks=tasks))
