# Copyright (c) mmmtl contributors. All rights reserved.
from .multitask_encoder_decoder import (MultiTaskEncoderDecoder,
                                        logits_to_prediction)

__all__ = ['MultiTaskEncoderDecoder', 'logits_to_prediction']
