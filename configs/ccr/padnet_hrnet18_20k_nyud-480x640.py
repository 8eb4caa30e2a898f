# PAD-Net baseline of the CCR paper's Table 2:
# ccr_padnet_hrnet18_20k_nyud-480x640.py without its auxiliary loss (same
# model, schedule and data).
_base_ = ['./ccr_padnet_hrnet18_20k_nyud-480x640.py']
model = dict(auxiliary_losses=[])
