# The multi-task baseline of ccr_hps_hrnet18_50k_pascal-context-512x512.py.
# The canonical config is
# configs/hps/hps_hrnet18_50k_pascal-context-512x512.py (same model,
# schedule and data, without CCR); this file keeps the CCR folder's
# like-for-like pair in one place.
_base_ = ['../hps/hps_hrnet18_50k_pascal-context-512x512.py']
