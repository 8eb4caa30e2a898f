# CompL on NYUD-v2: depth jointly trained with DenseCL (lambda 0.2). Each
# iteration: 8 target images (the single-task baseline's data, model and
# schedule) + 8 auxiliary images drawn independently from all 795 training
# images (two 224x224 MoCo-v2 views each, _base_/datasets/compl_aux_views.py).
# The DenseCL head (_base_/models/compl_ssl_heads.py) reads the 256-channel
# DeepLab-v3+ decoder output and is dropped at test time.
_base_ = [
    '../_base_/models/deeplabv3plus_r26-gn.py',
    '../_base_/models/compl_ssl_heads.py',
    '../_base_/datasets/nyud_425x560.py',
    '../_base_/datasets/compl_aux_views.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd_20k.py'
]
num_aux_images = 795  # NYUD-v2 training images: memory-bank size
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(tasks=_base_.tasks),
    ssl_tasks=[
        dict(_base_.densecl, head_task='depth', bank_size=num_aux_images)
    ])
# The target dataset wrapped with the auxiliary batch (_delete_: a wrapper
# replaces the dataset's keys).
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CompositeDataset',
        dataset=_base_.train_dataloader.dataset,
        aux_pipeline=_base_.aux_pipeline,
        seed=0))
