# A small Mask2Former (from scratch) on the ResNet-18 pyramid as MT-CP's
# shared representation: MSDeformAttn pixel decoder (2 encoder layers), 3
# transformer-decoder layers, 16 queries, 64 channels; MT-CP uses its pixel
# embeddings weighted by the summed mask logits (Mask2FormerRepresentation).
# Needs mmdet (requirements/optional.txt). Use it on the ResNet-18 MT-CP
# model (_base_/models/mtcp_resnet18.py):
#   model = dict(decode_head=dict(shared_representation=dict(
#       type='Mask2FormerRepresentation', mask2former=_base_.mask2former,
#       mask_activation=None)))
m2f_channels = 64
deform_attn = dict(
    embed_dims=m2f_channels,
    num_heads=4,
    num_levels=3,
    num_points=4,
    im2col_step=64,
    dropout=0.0,
    batch_first=True,
    norm_cfg=None,
    init_cfg=None)
attention = dict(
    embed_dims=m2f_channels,
    num_heads=4,
    attn_drop=0.0,
    proj_drop=0.0,
    dropout_layer=None,
    batch_first=True)
mask2former = dict(
    type='Mask2FormerHead',
    in_channels=[64, 128, 256, 512],
    strides=[4, 8, 16, 32],
    feat_channels=m2f_channels,
    out_channels=m2f_channels,
    num_classes=6,  # class predictions are not used by MT-CP
    num_queries=16,
    num_transformer_feat_level=3,
    align_corners=False,
    pixel_decoder=dict(
        type='mmdet.MSDeformAttnPixelDecoder',
        num_outs=3,
        norm_cfg=dict(type='GN', num_groups=32),
        act_cfg=dict(type='ReLU'),
        encoder=dict(
            num_layers=2,
            layer_cfg=dict(
                self_attn_cfg=deform_attn,
                ffn_cfg=dict(
                    embed_dims=m2f_channels,
                    feedforward_channels=4 * m2f_channels,
                    num_fcs=2,
                    ffn_drop=0.0,
                    act_cfg=dict(type='ReLU', inplace=True))),
            init_cfg=None),
        positional_encoding=dict(num_feats=m2f_channels // 2, normalize=True),
        init_cfg=None),
    enforce_decoder_input_project=False,
    positional_encoding=dict(num_feats=m2f_channels // 2, normalize=True),
    transformer_decoder=dict(
        return_intermediate=True,
        num_layers=3,
        layer_cfg=dict(
            self_attn_cfg=attention,
            cross_attn_cfg=attention,
            ffn_cfg=dict(
                embed_dims=m2f_channels,
                feedforward_channels=4 * m2f_channels,
                num_fcs=2,
                act_cfg=dict(type='ReLU', inplace=True),
                ffn_drop=0.0,
                dropout_layer=None,
                add_identity=True)),
        init_cfg=None),
    loss_cls=dict(
        type='mmdet.CrossEntropyLoss',
        use_sigmoid=False,
        loss_weight=2.0,
        reduction='mean',
        class_weight=[1.0] * 6 + [0.1]),
    loss_mask=dict(
        type='mmdet.CrossEntropyLoss',
        use_sigmoid=True,
        reduction='mean',
        loss_weight=5.0),
    loss_dice=dict(
        type='mmdet.DiceLoss',
        use_sigmoid=True,
        activate=True,
        reduction='mean',
        naive_dice=True,
        eps=1.0,
        loss_weight=5.0))
