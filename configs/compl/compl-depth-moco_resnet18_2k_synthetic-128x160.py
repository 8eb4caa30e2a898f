# CompL: depth + MoCo v2 on the synthetic dataset, with MoCo's FIFO queue of
# negatives (512 keys, as the authors' MoCo configs for small datasets; the
# ImageNet size is 65536), temperature 0.2, momentum 0.999, lambda 0.2.
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
model = dict(ssl_tasks=[
    dict(_base_.moco, head_task='depth', in_channels=64, hid_channels=64,
         temperature=0.2, negative_bank='queue', bank_size=512)
])
