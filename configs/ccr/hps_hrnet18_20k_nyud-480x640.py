# The "MT Baseline" of the CCR paper's NYUD-v2 tables: the CCR config
# without its auxiliary loss (same model, schedule and data), for a
# like-for-like comparison.
_base_ = ['./ccr_hps_hrnet18_20k_nyud-480x640.py']
model = dict(auxiliary_losses=[])
