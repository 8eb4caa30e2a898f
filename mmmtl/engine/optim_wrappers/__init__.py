# Copyright (c) mmmtl contributors. All rights reserved.
from .multitask_optim_wrapper import MultiTaskOptimWrapper, split_losses

__all__ = ['MultiTaskOptimWrapper', 'split_losses']
