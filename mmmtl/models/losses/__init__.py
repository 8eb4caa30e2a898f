from .balanced_bce_loss import BalancedBCELoss
from .cross_task_triplet_loss import CrossTaskTripletLoss
from .depth_l1_loss import DepthL1Loss
from .normals_loss import NormalsLoss
from .utils import masked_mean

__all__ = [
    'BalancedBCELoss', 'CrossTaskTripletLoss', 'DepthL1Loss', 'NormalsLoss',
    'masked_mean'
]
