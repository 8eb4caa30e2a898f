# Uncertainty weighting (Kendall et al., CVPR 2018): a learnt log-variance
# per task (loss-based; equal weighting in the wrapper).
_base_ = './ew_hrnet18_20k_nyud-480x640.py'
model = dict(uncertainty_weighting=True)
