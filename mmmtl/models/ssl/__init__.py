# Copyright (c) mmmtl contributors. All rights reserved.
"""CompL self-supervised auxiliary tasks (rotation, MoCo v2, DenseCL)."""
from .base_ssl_head import (BaseSSLHead, SSLEncoder, encode_features,
                            stack_ssl_labels, stack_ssl_views)
from .contrastive import (dense_correspondence, gather_locations,
                          info_nce_logits)
from .densecl_head import DenseCLSSLHead
from .moco_head import MoCoSSLHead
from .momentum import MomentumEncoder
from .negative_bank import (PAPER_QUEUE_LEN, MemoryBank, NegativeBank,
                            NegativeQueue, build_negative_bank)
from .rotation_head import RotationSSLHead

__all__ = [
    'BaseSSLHead', 'SSLEncoder', 'encode_features', 'stack_ssl_labels',
    'stack_ssl_views', 'dense_correspondence', 'gather_locations',
    'info_nce_logits', 'DenseCLSSLHead', 'MoCoSSLHead', 'MomentumEncoder',
    'PAPER_QUEUE_LEN', 'MemoryBank', 'NegativeBank', 'NegativeQueue',
    'build_negative_bank', 'RotationSSLHead'
]
