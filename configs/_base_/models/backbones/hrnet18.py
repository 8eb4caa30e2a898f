# HRNet-W18-small-v2 encoder (MMSegmentation's HRNetV2-W18-small) without a
# head: the encoder of every HRNet-18 model in _base_/models/*_hrnet18.py,
# which add their decode head. Its four outputs have 18, 36, 72 and 144
# channels at strides 4, 8, 16 and 32.
# ImageNet-pretrained weights ('open-mmlab://msra/hrnetv2_w18_small').
# Nothing is downloaded: put the file at this path (or pass --cfg-options
# model.backbone.init_cfg=None to train from scratch).
pretrained = 'checkpoints/hrnetv2_w18_small-b5a04e21.pth'
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='MultiTaskDataPreProcessor', mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, size_divisor=32)
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='HRNet',
        norm_cfg=norm_cfg,
        norm_eval=False,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                        num_blocks=(2, ), num_channels=(64, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                        num_blocks=(2, 2), num_channels=(18, 36)),
            stage3=dict(num_modules=3, num_branches=3, block='BASIC',
                        num_blocks=(2, 2, 2), num_channels=(18, 36, 72)),
            stage4=dict(num_modules=2, num_branches=4, block='BASIC',
                        num_blocks=(2, 2, 2, 2),
                        num_channels=(18, 36, 72, 144))),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
