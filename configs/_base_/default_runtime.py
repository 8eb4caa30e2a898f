# Runtime shared by every mmmtl config.
default_scope = 'mmseg'
custom_imports = dict(imports=['mmmtl'], allow_failed_imports=False)
# Built by every entry point that honours `runner_type` (ours and
# MMSegmentation's tools/train.py and tools/test.py). Before building, it
# replaces CheckpointHook by SafeCheckpointHook (atomic writes, exact resume),
# adds NonFiniteLossHook (see `nonfinite_loss`) and BroadcastBuffersHook,
# fits the dataloader workers to the machine and, without a GPU (or with
# MMMTL_DEVICE=cpu), runs distributed jobs on gloo with a CPU DDP wrapper.
runner_type = 'MultiTaskRunner'
# What a NaN/Inf total loss does: 'stop' the run, 'skip' the step, or 'off'.
nonfinite_loss = 'stop'
# Also stop when the loss exceeds this many times its running median (None:
# off).
loss_spike_ratio = None
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # MultiTaskRunner switches to gloo when no GPU is in use.
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
