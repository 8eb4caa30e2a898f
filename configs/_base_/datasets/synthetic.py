# The embedded synthetic multi-task dataset. Generate it with
#   python tools/misc/generate_synthetic.py --out data/synthetic
# (`make demo` generates it when it is missing); a missing data_root is an
# error naming the path, unless the dataset sets generate_if_missing=True.
_base_ = ['./multitask_loaders.py']
dataset_type = 'SyntheticMultiTaskDataset'
data_root = 'data/synthetic'
tasks = ['semseg', 'depth', 'normals', 'edge', 'saliency']
num_classes = dict(semseg=6)
crop_size = (128, 160)
generator_cfg = dict(
    num_train=1000, num_val=200, height=128, width=160, seed=0,
    num_workers=2)

train_pipeline = [
    *_base_.load_steps,
    dict(type='MultiTaskRandomResize', scale=(160, 128),
         ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    _base_.random_flip, _base_.photo_metric_distortion, _base_.pack_inputs
]
dataset_cfg = dict(type=dataset_type, data_root=data_root, tasks=tasks,
                   generator_cfg=generator_cfg)
train_dataloader = dict(dataset=dict(dataset_cfg, pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dataset_cfg)
