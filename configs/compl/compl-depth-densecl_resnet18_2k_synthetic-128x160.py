# CompL (Kanakis et al., WACV 2023): depth jointly trained with DenseCL on the
# synthetic dataset. Target batch: 8 labelled images with the baseline
# augmentations (the single-task depth baseline's data, model and schedule);
# auxiliary batch: 8 independently drawn images (all of the training set),
# two MoCo-v2-style views each. The DenseCL head reads the depth decoder's
# output (the paper branches the auxiliary head after the decoder) and is
# dropped at test time. Head settings: _base_/models/compl_ssl_heads.py
# (the authors' released ones) sized for the 64-channel decoders.
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/models/compl_ssl_heads.py',
    '../_base_/datasets/synthetic.py', '../_base_/datasets/compl_aux_views.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_2k.py'
]
tasks = ['depth']
num_aux_images = 1000  # == generator_cfg['num_train']: memory-bank size
# The auxiliary views of compl_aux_views.py at 128x128 (images: 128x160).
aux_size = 128
view_pipeline = [
    dict(_base_.view_pipeline[0], scale=aux_size), *_base_.view_pipeline[1:]
]
aux_pipeline = [
    _base_.aux_pipeline[0],
    dict(_base_.aux_pipeline[1], transforms=[view_pipeline]),
    _base_.aux_pipeline[2],
]
rot_pipeline = [_base_.rot_pipeline[0], *view_pipeline,
                *_base_.rot_pipeline[-2:]]
# The auxiliary heads on the 64-channel decoders of this model.
densecl = dict(in_channels=64, hid_channels=64)
moco = dict(in_channels=64, hid_channels=64)
rot = dict(in_channels=64)
model = dict(
    decode_head=dict(tasks=tasks, num_classes=None),
    ssl_tasks=[
        dict(_base_.densecl, **densecl, head_task='depth',
             bank_size=num_aux_images)
    ])
train_dataloader = dict(
    dataset=dict(
        _delete_=True,  # the target dataset wrapped with the auxiliary batch
        type='CompositeDataset',
        dataset=dict(_base_.train_dataloader.dataset, tasks=tasks),
        aux_pipeline=aux_pipeline,
        seed=0))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(tasks=tasks)
test_evaluator = val_evaluator
