# CompL on PASCAL VOC 2012 "aug": semseg (stl-semseg's data, model, schedule)
# jointly trained with DenseCL (lambda 0.2), 8 target + 8 auxiliary images
# (from all 10,582) an iteration, a memory bank of the dataset size and the
# DenseCL grid 32 of the authors.
_base_ = [
    '../_base_/models/deeplabv3plus_r26-gn.py',
    '../_base_/models/compl_ssl_heads.py',
    '../_base_/datasets/pascal_voc_compl.py',
    '../_base_/datasets/compl_aux_views.py', '../_base_/default_runtime.py',
    '../_base_/schedules/sgd-poly_80k.py'
]
num_aux_images = 10582
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(tasks=_base_.tasks, num_classes=_base_.num_classes),
    ssl_tasks=[
        dict(_base_.densecl, head_task='semseg', num_grid=32,
             bank_size=num_aux_images)
    ])
# _delete_: the target dataset wrapped with the auxiliary batch
train_dataloader = dict(dataset=dict(
    _delete_=True, type='CompositeDataset', seed=0,
    dataset=_base_.train_dataloader.dataset, aux_pipeline=_base_.aux_pipeline))
