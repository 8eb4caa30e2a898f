# Copyright (c) mmmtl contributors. All rights reserved.
from .base_multitask_head import BaseMultiTaskHead, resize_concat
from .ctal_head import CTALHead
from .deeplabv3plus_head import DeepLabV3PlusHead
from .hps_head import HPSHead, SingleTaskHead
from .mtcp_head import MTCPHead
from .mtinet_head import MTINetHead
from .padnet_head import PADNetHead, SingleScaleDistillationHead
from .papnet_head import PAPNetHead

__all__ = [
    'BaseMultiTaskHead', 'resize_concat', 'DeepLabV3PlusHead',
    'HPSHead', 'SingleTaskHead', 'CTALHead',
    'MTCPHead', 'MTINetHead', 'PADNetHead', 'SingleScaleDistillationHead',
    'PAPNetHead'
]
