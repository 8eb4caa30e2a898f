# Runtime shared by every mmmtl config.
default_scope = 'mmseg'
custom_imports = dict(imports=['mmmtl'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when no GPU is present.
    dist_cfg=dict(backend='nccl'),
)
# Logs, scalars (every per-task loss, task weight and metric is its own
# scalar) and validation panels go to <work_dir>/<timestamp>/vis_data/.
# To log to TensorBoard as well (pip install tensorboard, listed in
# requirements/optional.txt), add this one line to your config:
#   visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])  # noqa: E501
# then run: tensorboard --logdir <work_dir>
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='MultiTaskVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
