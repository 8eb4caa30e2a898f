# Uncertainty weighting (Kendall et al., CVPR 2018): a learnt log-variance
# per task (loss-based; equal weighting in the wrapper).
_base_ = './ew_hrnet18_50k_pascal-context-512x512.py'
model = dict(uncertainty_weighting=True)
