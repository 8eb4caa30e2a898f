# Copyright (c) mmmtl contributors. All rights reserved.
"""Inference API: :func:`init_model`, :func:`inference_model` and
:class:`MultiTaskInferencer`."""
from .inference import (build_inference_pipeline, inference_model,
                        init_model, load_checkpoint_file,
                        predictions_to_numpy)
from .multitask_inferencer import MultiTaskInferencer

__all__ = [
    'init_model', 'inference_model', 'MultiTaskInferencer',
    'build_inference_pipeline', 'load_checkpoint_file',
    'predictions_to_numpy'
]
