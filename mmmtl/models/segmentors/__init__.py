from .multitask_encoder_decoder import (MultiTaskEncoderDecoder,
                                        logits_to_prediction, unwrap_model)

__all__ = ['MultiTaskEncoderDecoder', 'logits_to_prediction', 'unwrap_model']
