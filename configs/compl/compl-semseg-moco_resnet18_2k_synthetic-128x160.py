# CompL: semantic segmentation + MoCo v2 (queue of 512 negatives, as
# compl-depth-moco).
_base_ = ['./compl-semseg-densecl_resnet18_2k_synthetic-128x160.py']
model = dict(ssl_tasks=[
    dict(_base_.moco, head_task='semseg', in_channels=64, hid_channels=64,
         temperature=0.2, negative_bank='queue', bank_size=512)
])
