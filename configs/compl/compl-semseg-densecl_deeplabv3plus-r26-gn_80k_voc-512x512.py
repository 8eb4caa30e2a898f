# CompL on PASCAL VOC 2012 "aug": semseg jointly trained with DenseCL (lambda
# 0.2), 8 target + 8 auxiliary images (from all 10,582) an iteration, a
# memory bank of the dataset size and the DenseCL grid 32 of the authors.
_base_ = [
    './stl-semseg_deeplabv3plus-r26-gn_80k_voc-512x512.py',
    '../_base_/models/compl_ssl_heads.py',
    '../_base_/datasets/compl_aux_views.py'
]
num_aux_images = 10582
model = dict(ssl_tasks=[
    dict(_base_.densecl, head_task='semseg', num_grid=32,
         bank_size=num_aux_images)
])
train_dataloader = dict(dataset=dict(
    _delete_=True, type='CompositeDataset', seed=0,
    dataset=_base_.train_dataloader.dataset, aux_pipeline=_base_.aux_pipeline))
