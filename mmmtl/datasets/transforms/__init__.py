# Copyright (c) mmmtl contributors. All rights reserved.
from .formatting import PackMultiTaskInputs
from .geometric import (MultiTaskRandomFlip, MultiTaskRandomResize,
                        MultiTaskResize, flip_task_map, resize_task_map,
                        resize_valid)
from .loading import (AnnotationError, LoadMultiTaskAnnotations,
                      LoadMultiTaskImageFromFile, decode_annotation,
                      read_annotation_file, read_rgb_image)
from .ssl_views import PackSSLViews, RandomRotate90, SSLColorJitter, shift_hue

__all__ = [
    'PackMultiTaskInputs', 'MultiTaskRandomFlip', 'MultiTaskRandomResize',
    'MultiTaskResize', 'flip_task_map', 'resize_task_map', 'resize_valid',
    'AnnotationError', 'LoadMultiTaskAnnotations',
    'LoadMultiTaskImageFromFile', 'decode_annotation',
    'read_annotation_file', 'read_rgb_image', 'PackSSLViews',
    'RandomRotate90', 'SSLColorJitter', 'shift_hue'
]
