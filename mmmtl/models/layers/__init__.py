# Copyright (c) mmmtl contributors. All rights reserved.
"""Reusable layers of the multi-task heads."""
from .affinity import (affinity_diffusion_chunked, affinity_diffusion_dense,
                       cosine_affinity, interleave_affinities,
                       normalize_columns)
from .affinity_propagation import TaskAffinityPropagation
from .aspp_block import ASPPBlock
from .aspp_prediction_head import ASPPPredictionHead
from .bottleneck import Bottleneck
from .cbam import CBAM
from .coherence_fusion import (CoherenceFusionModule, cosine_coherence_loss,
                               cross_task_attention)
from .conv_task_decoder import ConvTaskDecoder
from .cross_scale_fusion import CrossScaleFusion, distill_size
from .cross_task_affinity import CrossTaskAffinity
from .deeplabv3plus_decoder import DeepLabV3PlusDecoder
from .dynamic_pyramid_fusion import DynamicPyramidFusion
from .feature_propagation import FeaturePropagation
from .mask2former_representation import Mask2FormerRepresentation
from .multi_modal_distillation import MultiModalDistillation
from .multi_scale_initial_predictions import MultiScaleInitialPredictions
from .prediction_head import PredictionHead
from .residual_task_decoder import ResidualTaskDecoder
from .spatial_refinement import SpatialRefinementModule
from .squeeze_excitation import SqueezeExcitation
from .window_transformer_decoder import WindowTransformerDecoder

__all__ = [
    'affinity_diffusion_chunked', 'affinity_diffusion_dense',
    'cosine_affinity', 'interleave_affinities', 'normalize_columns',
    'TaskAffinityPropagation', 'ASPPBlock', 'ASPPPredictionHead', 'CBAM',
    'CoherenceFusionModule',
    'cosine_coherence_loss', 'cross_task_attention', 'CrossTaskAffinity',
    'DeepLabV3PlusDecoder', 'DynamicPyramidFusion',
    'Mask2FormerRepresentation', 'MultiModalDistillation', 'Bottleneck',
    'CrossScaleFusion', 'FeaturePropagation', 'MultiScaleInitialPredictions',
    'PredictionHead', 'SqueezeExcitation', 'distill_size', 'ConvTaskDecoder',
    'ResidualTaskDecoder',
    'SpatialRefinementModule', 'WindowTransformerDecoder'
]
