"""Analysis tools on the log and checkpoint of a 5-iteration training."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from mmmtl.apis import inference_model, init_model
from mmmtl.structures import TASKS
from mmmtl.utils import setup_runtime
from mmmtl.utils.prediction_io import save_task_prediction

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs/hps/hps_resnet18_2k_synthetic-128x160.py')
TOOLS = osp.join(REPO, 'tools', 'analysis_tools')
ITERS = 5


def load_tool(name: str):
    """Import ``tools/analysis_tools/<name>.py`` as a module."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        f'mmmtl_tool_{name}', osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_cfg(root: str, work_dir: str) -> Config:
    """The demo config with a tiny backbone, one validation at the end
    (panels of 2 images), TensorBoard on when installed."""
    cfg = Config.fromfile(DEMO)
    cfg.work_dir = work_dir
    cfg.model.backbone.update(stem_channels=8, base_channels=8)
    cfg.model.decode_head.update(in_channels=[8, 16, 32, 64], channels=8)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=root, generate_if_missing=False)
    pipeline = cfg.train_dataloader.dataset.pipeline
    pipeline[2].update(scale=(80, 64))
    pipeline[3].update(crop_size=(64, 80))
    cfg.crop_size = (64, 80)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=ITERS,
                         val_interval=ITERS)
    cfg.default_hooks.visualization.num_images = 2
    cfg.default_hooks.logger.interval = 1
    # Log each iteration's own values (MMEngine averages over 10 by default).
    cfg.log_processor = dict(by_epoch=False, window_size=1)
    cfg.default_hooks.checkpoint.interval = ITERS
    cfg.log_level = 'WARNING'
    cfg.visualizer = dict(
        type='MultiTaskVisualizer', name='analysis_tools_vis',
        vis_backends=[dict(type='LocalVisBackend')] + (
            [dict(type='TensorboardVisBackend')]
            if _has_tensorboard() else []))
    return cfg


def _has_tensorboard() -> bool:
    try:
        import tensorboard  # noqa: F401
        return True
    except ImportError:
        return False


@pytest.fixture(scope='module')
def trained(tiny_synthetic_root, tmp_path_factory):
    """(config path, work dir, per-iteration losses) of a 5-iter run."""
    work_dir = str(tmp_path_factory.mktemp('run'))
    cfg = tiny_cfg(tiny_synthetic_root, work_dir)
    setup_runtime(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    losses = list(runner.message_hub.get_scalar('train/loss').data[0])
    cfg_path = osp.join(work_dir, 'tiny.py')
    cfg.dump(cfg_path)
    return cfg_path, work_dir, losses


def test_analyze_logs_plots_per_task_curves(trained, tmp_path):
    analyze_logs = load_tool('analyze_logs')
    _, work_dir, losses = trained
    log = analyze_logs.find_log(work_dir)
    series = analyze_logs.load_json_log(log)
    xs, ys = series['loss']
    assert xs == [float(i) for i in range(1, ITERS + 1)]
    np.testing.assert_allclose(ys, losses, atol=1e-4)
    for task in ('semseg', 'depth', 'normals', 'edge', 'saliency'):
        assert f'{task}.unweighted' in series and f'weight.{task}' in series
        assert series[f'weight.{task}'][1] == [1.0] * ITERS
    # The validation at the last iteration logs per-task metrics.
    assert series['semseg/mIoU'][0] == [float(ITERS)]
    assert series['depth/rmse'][0] == [float(ITERS)]
    out = str(tmp_path / 'curves.png')
    analyze_logs.main([work_dir, work_dir, '--keys', 'loss',
                       '*.unweighted', '--legend', 'a', 'b', '--out', out])
    image = cv2.imread(out)
    assert image is not None and image.shape[:2] == (500, 800)
    assert analyze_logs.plot_curves(
        [series, series], ['loss', '*.unweighted'], out, ['a', 'b']) == 12
    with pytest.raises(KeyError, match='no logged key matches'):
        analyze_logs.plot_curves([series], ['nothing*'], out)


def test_load_json_log_train_and_val_lines(tmp_path):
    analyze_logs = load_tool('analyze_logs')
    log = tmp_path / 'log.json'
    lines = [
        dict(lr=0.1, loss=2.0, iter=10, step=10),
        dict(lr=0.1, loss=1.5, iter=20, step=20),
        {'semseg/mIoU': 40.0, 'mtl/delta_m': -3.5, 'step': 20},
        dict(lr=0.05, loss=1.0, iter=30, step=30),
        {'semseg/mIoU': 45.0, 'mtl/delta_m': 1.25, 'step': 40},
    ]
    log.write_text('\n'.join(json.dumps(d) for d in lines) + '\n{"trunc')
    series = analyze_logs.load_json_log(str(log))
    assert series['loss'] == ([10.0, 20.0, 30.0], [2.0, 1.5, 1.0])
    assert series['mtl/delta_m'] == ([20.0, 40.0], [-3.5, 1.25])
    assert analyze_logs.select_keys(list(series), ['*/*', 'lr']) == [
        'semseg/mIoU', 'mtl/delta_m', 'lr']


def test_tensorboard_has_separate_scalars(trained):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    _, work_dir, _ = trained
    events = glob.glob(osp.join(work_dir, '*', 'vis_data',
                                'events.out.tfevents.*'))
    assert events
    acc = EventAccumulator(osp.dirname(events[0]))
    acc.Reload()
    tags = set(acc.Tags()['scalars'])
    for task in ('semseg', 'depth', 'normals'):
        assert f'weight.{task}' in tags and f'{task}.unweighted' in tags
    assert 'semseg.loss_ce' in tags and 'depth.loss_l1' in tags
    assert 'semseg/mIoU' in tags and 'depth/rmse' in tags
    # Validation panels of the first 2 images, in TensorBoard and as files.
    assert len(acc.Tags()['images']) == 2
    panels = glob.glob(osp.join(work_dir, '*', 'vis_data', 'vis_image',
                                f'val_*_{ITERS}.png'))
    assert len(panels) == 2


def test_flops_of_a_hand_countable_model():
    get_flops = load_tool('get_flops')

    class Toy(nn.Module):

        def __init__(self):
            super().__init__()
            self.backbone = nn.Conv2d(3, 4, 3, padding=1, bias=False)
            self.decode_head = nn.Module()
            self.decode_head.decoders = nn.ModuleDict(dict(
                semseg=nn.Conv2d(4, 2, 1), depth=nn.Conv2d(4, 1, 1)))
            self.decode_head.fuse = nn.Conv2d(4, 4, 1, bias=False)
            self.aux = nn.Linear(4, 4)  # training-only: never run

        def forward(self, x):
            f = self.decode_head.fuse(self.backbone(x))
            return (self.decode_head.decoders['semseg'](f),
                    self.decode_head.decoders['depth'](f))

    result = get_flops.analyze(Toy().eval(), (torch.zeros(1, 3, 8, 10), ),
                               ['semseg', 'depth'])
    # multiply-adds: Cout * Cin * k * k * H * W
    assert result['flops'] == {
        'backbone': 4 * 3 * 9 * 80, 'decode_head (shared)': 4 * 4 * 80,
        'decode_head/semseg': 2 * 4 * 80, 'decode_head/depth': 1 * 4 * 80}
    assert result['total_flops'] == sum(result['flops'].values())
    assert result['params'] == {
        'backbone': 108, 'decode_head (shared)': 16,
        'decode_head/semseg': 10, 'decode_head/depth': 5}
    assert result['unused_params'] == 20


def test_get_flops_on_config(trained):
    get_flops = load_tool('get_flops')
    cfg_path, _, _ = trained
    result = get_flops.main([cfg_path, '--shape', '64', '80'])
    parts = set(result['flops'])
    assert {'backbone', 'decode_head/semseg', 'decode_head/depth',
            'decode_head/normals', 'decode_head/edge',
            'decode_head/saliency', 'decode_head (shared)'} <= parts
    assert 'other' not in parts
    assert result['total_flops'] == sum(result['flops'].values())
    model = init_model(cfg_path)
    assert result['total_params'] + result['unused_params'] == sum(
        p.numel() for p in model.parameters())


def test_benchmark_and_print_config(trained, tmp_path, capsys):
    cfg_path, work_dir, _ = trained
    benchmark = load_tool('benchmark')
    out = str(tmp_path / 'bench.json')
    summary = benchmark.main([cfg_path, osp.join(work_dir, 'iter_5.pth'),
                              '--num-iters', '2', '--num-warmup', '1',
                              '--device', 'cpu', '--out', out])
    assert summary['fps_mean'] > 0 and summary['num_iters'] == 2
    with open(out) as f:
        assert json.load(f)['fps_runs'] == summary['fps_runs']
    # one run: no meaningless "std 0.00", but how to get a spread
    text = capsys.readouterr().out
    assert 'std' not in text and 'one run, --repeat N' in text
    summary = benchmark.main([cfg_path, '--num-iters', '1', '--num-warmup',
                              '0', '--device', 'cpu', '--repeat', '2'])
    assert len(summary['fps_runs']) == 2
    assert 'mean +- std' in capsys.readouterr().out
    print_config = load_tool('print_config')
    saved = str(tmp_path / 'full.py')
    print_config.main([cfg_path, '--cfg-options', 'model.test_cfg.flip=True',
                       '--save-path', saved])
    assert "type='MultiTaskEncoderDecoder'" in capsys.readouterr().out
    assert Config.fromfile(saved).model.test_cfg.flip is True


def test_runner_checkpoint_loads_for_inference(trained, tiny_synthetic_root):
    cfg_path, work_dir, _ = trained
    model = init_model(cfg_path, osp.join(work_dir, 'iter_5.pth'))
    assert len(model.dataset_meta['classes']) == 6  # from the checkpoint
    image = sorted(glob.glob(osp.join(tiny_synthetic_root, 'images',
                                      '*.png')))[0]
    sample = inference_model(model, image)
    h, w = cv2.imread(image).shape[:2]
    for task in ('semseg', 'depth', 'normals', 'edge', 'saliency'):
        assert sample.get_pred(task).data.shape[1:] == (h, w)


def test_confusion_matrix_counts():
    confusion = load_tool('confusion_matrix')
    gt = np.array([[0, 0, 1], [2, 255, 1]])
    pred = np.array([[0, 1, 1], [1, 0, 7]])
    # (0,0), (0,1), (1,1), (2,1); 255 ignored; prediction 7 out of range.
    np.testing.assert_array_equal(
        confusion.confusion_matrix(gt, pred, 3),
        [[1, 1, 0], [0, 1, 0], [0, 1, 0]])


def test_confusion_matrix_tool(trained, tiny_synthetic_root, tmp_path):
    confusion = load_tool('confusion_matrix')
    cfg_path, _, _ = trained
    pred_dir = str(tmp_path / 'preds')
    spec = TASKS['semseg']
    expected = np.zeros((6, 6), np.int64)
    for path in sorted(glob.glob(osp.join(tiny_synthetic_root, 'semseg',
                                          '*.png'))):
        stem = osp.splitext(osp.basename(path))[0]
        if stem not in open(osp.join(tiny_synthetic_root, 'splits',
                                     'val.txt')).read().split():
            continue
        gt = np.array(Image.open(path)).astype(np.int64)
        pred = (gt + 1) % 6  # every pixel of class i predicted as i + 1
        pred[gt == 255] = 0
        save_task_prediction(pred[None], spec, stem, pred_dir)
        for i in range(6):
            expected[i, (i + 1) % 6] += int((gt == i).sum())
    save_dir = str(tmp_path / 'cm')
    matrix = confusion.main([cfg_path, pred_dir, save_dir])
    np.testing.assert_array_equal(matrix, expected)
    assert expected.sum() > 0
    np.testing.assert_array_equal(
        np.load(osp.join(save_dir, 'confusion_matrix_semseg.npy')), expected)
    assert cv2.imread(osp.join(save_dir, 'confusion_matrix_semseg.png')) \
        is not None
