# MTI-Net baseline of the CCR paper's Table 2:
# ccr_mtinet_hrnet18_20k_nyud-480x640.py without its auxiliary loss (same
# model, schedule and data).
_base_ = ['./ccr_hps_hrnet18_20k_nyud-480x640.py']
model = dict(
    neck=None,
    decode_head=dict(_base_.hrnet_head, _delete_=True, type='MTINetHead'),
    auxiliary_losses=[])
