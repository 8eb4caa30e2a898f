# Uncertainty weighting (Kendall et al., CVPR 2018): a learnt log-variance
# per task (loss-based; equal weighting in the wrapper).
_base_ = './ew_resnet18_500it_synthetic-128x160.py'
model = dict(uncertainty_weighting=True)
