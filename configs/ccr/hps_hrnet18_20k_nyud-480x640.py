# The "MT Baseline" of the CCR paper's NYUD-v2 tables:
# ccr_hps_hrnet18_20k_nyud-480x640.py without CCR (same model, schedule and
# data).
_base_ = ['./ccr_hps_hrnet18_20k_nyud-480x640.py']
model = dict(auxiliary_losses=[])
