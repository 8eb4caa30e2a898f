# PAD-Net with SwinV2-S and DeepLab-style final heads on NYUv2-13 (288x384):
# the CTAL paper's transformer setting (lr 1e-4, 200 epochs = 20k
# iterations at batch 8, cosine annealing), distillation at 1/4.
_base_ = ['./swinv2-s_distillation_base.py', '../_base_/datasets/nyuv2_13.py']
