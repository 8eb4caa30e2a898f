# The multi-task baseline of ccr_hps_hrnet18_50k_pascal-context-512x512.py:
# the same model, schedule and data without CCR.
_base_ = ['./ccr_hps_hrnet18_50k_pascal-context-512x512.py']
model = dict(auxiliary_losses=[])
