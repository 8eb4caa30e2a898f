# Copyright (c) mmmtl contributors. All rights reserved.
"""Registries of mmmtl's own component kinds.

Everything MMSegmentation already has a registry for (models, datasets,
hooks, optimizer wrappers, ...) is registered into MMSegmentation's
registries. Multi-task optimisation methods are a kind of their own: they
are built by :class:`~mmmtl.engine.optim_wrappers.MultiTaskOptimWrapper`
from its ``method`` dict.
"""
from mmengine.registry import Registry

#: Multi-task optimisation methods (loss- and gradient-based), see
#: :mod:`mmmtl.engine.mtl_methods`.
MTL_METHODS = Registry('mtl method', locations=['mmmtl.engine.mtl_methods'])
