# PAD-Net with HRNet-W18-small-v2 on NYUv2-13 (288x384): the CTAL paper's CNN
# setting (lr 1e-4, 200 epochs = 795 / 8 -> 100 iterations x 200 = 20k
# iterations, cosine annealing).
_base_ = ['./hrnet18_distillation_base.py', '../_base_/datasets/nyuv2_13.py']
