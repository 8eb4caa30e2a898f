# Copyright (c) mmmtl contributors. All rights reserved.
from .aligned_mtl import AlignedMTL
from .base_mtl_method import (BaseMTLMethod, GradientBasedMethod,
                              GradientMatrixMethod, LossBasedMethod)
from .cagrad import CAGrad
from .db_mtl import DBMTL
from .equal_weighting import EqualWeighting
from .famo import FAMO
from .geometric_loss_strategy import GeometricLossStrategy
from .gradnorm import GradNorm
from .gradvac import GradVac
from .imtl_g import IMTLG
from .mgda import MGDA
from .nash_mtl import NashMTL
from .pcgrad import PCGrad
from .random_loss_weighting import RandomLossWeighting
from .upgrad import UPGrad

__all__ = [
    'AlignedMTL', 'BaseMTLMethod', 'CAGrad', 'DBMTL', 'EqualWeighting',
    'FAMO', 'GeometricLossStrategy', 'GradNorm', 'GradVac',
    'GradientBasedMethod', 'GradientMatrixMethod', 'IMTLG',
    'LossBasedMethod', 'MGDA', 'NashMTL', 'PCGrad', 'RandomLossWeighting',
    'UPGrad'
]
