# CompL: semantic segmentation + MoCo v2 (queue of 512 negatives).
_base_ = ['./compl-semseg-densecl_resnet18_2k_synthetic-128x160.py']
model = dict(
    ssl_tasks=[
        dict(
            type='MoCoSSLHead',
            name='moco',
            loss_weight=0.2,
            head_task='semseg',
            in_channels=64,
            hid_channels=64,
            out_channels=128,
            temperature=0.2,
            momentum=0.999,
            negative_bank='queue',
            bank_size=512)
    ])
