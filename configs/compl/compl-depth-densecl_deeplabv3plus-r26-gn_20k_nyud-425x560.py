# CompL on NYUD-v2: depth (stl-depth's data, model, schedule) jointly trained
# with DenseCL (lambda 0.2) on the 256-channel decoder output; 8 target + 8
# auxiliary images (two 224x224 views, from all 795) an iteration.
_base_ = [
    '../_base_/models/deeplabv3plus_r26-gn.py',
    '../_base_/models/compl_ssl_heads.py', '../_base_/datasets/nyud_compl.py',
    '../_base_/datasets/compl_aux_views.py', '../_base_/default_runtime.py',
    '../_base_/schedules/sgd-poly_20k.py'
]
num_aux_images = 795  # NYUD-v2 training images: memory-bank size
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(tasks=_base_.tasks),
    ssl_tasks=[
        dict(_base_.densecl, head_task='depth', bank_size=num_aux_images)
    ])
# _delete_: the target dataset wrapped with the auxiliary batch
train_dataloader = dict(dataset=dict(
    _delete_=True, type='CompositeDataset', seed=0,
    dataset=_base_.train_dataloader.dataset, aux_pipeline=_base_.aux_pipeline))
