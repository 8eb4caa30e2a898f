# The "MT Baseline" of the CCR paper's NYUD-v2 tables. The canonical config
# is configs/hps/hps_hrnet18_20k_nyud-480x640.py (same model, schedule and
# data as ccr_hps_hrnet18_20k_nyud-480x640.py, without CCR); this file
# keeps the CCR folder's like-for-like pair in one place.
_base_ = ['../hps/hps_hrnet18_20k_nyud-480x640.py']
