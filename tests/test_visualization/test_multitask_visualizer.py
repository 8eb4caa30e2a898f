"""MultiTaskVisualizer panels and the validation visualization hook."""
import os
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch.nn.functional as F
from mmengine.visualization import Visualizer
from mmseg.registry import VISUALIZERS
from mmseg.visualization import SegLocalVisualizer

from mmmtl.engine.hooks.visualization_hook import MultiTaskVisualizationHook
from mmmtl.structures import MultiTaskDataSample
from mmmtl.testing import random_sample
from mmmtl.visualization import MultiTaskVisualizer, panel_size
from mmmtl.visualization.panels import TITLE_HEIGHT

H, W = 32, 40
TASKS5 = ('semseg', 'depth', 'normals', 'edge', 'saliency')
META = dict(classes=('a', 'b', 'c', 'd'),
            palette=[[200, 10, 10], [10, 200, 10], [10, 10, 200],
                     [90, 90, 90]],
            tasks=list(TASKS5))


def build_visualizer(name: str, **kwargs) -> MultiTaskVisualizer:
    if Visualizer.check_instance_created(name):
        return Visualizer.get_instance(name)
    vis = VISUALIZERS.build(dict(type='MultiTaskVisualizer', name=name,
                                 **kwargs))
    vis.dataset_meta = META
    return vis


def sample_with_preds() -> MultiTaskDataSample:
    """Random ground truth; predictions equal to it (probabilities for the
    binary tasks)."""
    sample = random_sample(H, W, seed=3)
    gt = sample.get_gt('semseg').data.clone()
    gt[0, :2, :3] = 255  # ignored pixels are drawn black
    sample.set_gt('semseg', gt)
    for task in TASKS5:
        data = sample.get_gt(task).data
        sample.set_pred(task, data.float() if task in ('edge', 'saliency')
                        else data.clone())
    return sample


def tile(panel: np.ndarray, row: int, col: int) -> np.ndarray:
    """Tile (row, col) of a panel without its title bar."""
    y = row * (H + TITLE_HEIGHT) + TITLE_HEIGHT
    return panel[y:y + H, col * W:(col + 1) * W]


def test_is_registered_seg_local_visualizer():
    vis = build_visualizer('vis_registry')
    assert isinstance(vis, MultiTaskVisualizer)
    assert isinstance(vis, SegLocalVisualizer)


def test_panel_png_size_and_colours(tmp_path):
    vis = build_visualizer('vis_panel')
    image = np.random.default_rng(0).integers(0, 256, (H, W, 3),
                                              dtype=np.uint8)
    sample = sample_with_preds()
    out = str(tmp_path / 'panel.png')
    panel = vis.add_datasample('x', image, sample, out_file=out)
    written = cv2.imread(out)[..., ::-1]
    # 2 rows (GT, pred) of image + 5 tasks, depth colour bar (18 px), a
    # legend of 4 classes at width 6 * 40 = 240: 2 per row -> 2 rows (32 px).
    expected = panel_size((H, W), 5, 2, [18, 32])
    assert expected == (2 * (H + 16) + 50, 6 * W)
    assert written.shape[:2] == expected
    np.testing.assert_array_equal(written, panel)
    np.testing.assert_array_equal(tile(panel, 0, 0), image)
    # semseg GT tile: palette colours, ignored pixels black.
    labels = sample.get_gt('semseg').data[0].numpy()
    semseg = tile(panel, 0, 1)
    for y, x in [(5, 7), (20, 33), (31, 0)]:
        assert list(semseg[y, x]) == META['palette'][labels[y, x]]
    assert (semseg[:2, :3] == 0).all()
    # Depth GT and prediction share one colour scale: equal maps, equal
    # tiles (the columns follow the task table order).
    depth_col = 2
    np.testing.assert_array_equal(tile(panel, 0, depth_col),
                                  tile(panel, 1, depth_col))
    # Normals RGB = (n + 1) * 127.5.
    n = sample.get_gt('normals').data[:, 4, 9].numpy()
    assert np.abs(tile(panel, 0, 3)[4, 9].astype(float) -
                  (n + 1) * 127.5).max() <= 1


def test_prediction_only_panel_has_one_row():
    vis = build_visualizer('vis_pred_only')
    image = np.zeros((H, W, 3), np.uint8)
    panel = vis.add_datasample('y', image, sample_with_preds(),
                               draw_gt=False)
    assert panel.shape[:2] == panel_size((H, W), 5, 1, [18, 32])


def test_padded_ground_truth_is_cropped():
    vis = build_visualizer('vis_pad')
    image = np.zeros((H, W, 3), np.uint8)
    plain = sample_with_preds()
    padded = sample_with_preds()
    for task in TASKS5:
        spec_pad = 255 if task in ('semseg', 'edge', 'saliency') else 0
        padded.set_gt(task, F.pad(padded.get_gt(task).data, (0, 24, 0, 0),
                                  value=spec_pad))
    padded.set_metainfo(dict(img_shape=(H, W), padding_size=[0, 24, 0, 0]))
    np.testing.assert_array_equal(
        vis.add_datasample('a', image, plain),
        vis.add_datasample('b', image, padded))


def test_tasks_default_to_the_dataset_tasks():
    image = np.zeros((H, W, 3), np.uint8)
    vis = build_visualizer('vis_tasks', tasks=['semseg', 'depth'])
    panel = vis.add_datasample('t', image, sample_with_preds())
    assert panel.shape[1] == 3 * W  # image, semseg, depth
    vis.dataset_meta = dict(META, tasks=['normals'])
    vis.tasks = None  # now from the metainfo
    panel = vis.add_datasample('t', image, sample_with_preds())
    assert panel.shape[:2] == panel_size((H, W), 1, 2, [])  # no legend
    vis.dataset_meta = {k: v for k, v in META.items() if k != 'tasks'}
    with pytest.raises(ValueError, match="no tasks to draw.*'tasks'"):
        vis.add_datasample('t', image, sample_with_preds())
    with pytest.raises(KeyError, match="unknown task 'dpth'"):
        build_visualizer('vis_bad_tasks', tasks=['dpth'])


def test_visualization_hook_writes_first_n_panels(tmp_path):
    vis = VISUALIZERS.build(dict(
        type='MultiTaskVisualizer', name='vis_hook',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path)))
    vis.dataset_meta = META
    samples = []
    for i in range(3):
        path = str(tmp_path / f'im{i}.png')
        cv2.imwrite(path, np.full((H, W, 3), 40 * i, np.uint8))
        sample = sample_with_preds()
        sample.set_metainfo(dict(img_path=path))
        samples.append(sample)
    hook = MultiTaskVisualizationHook(num_images=2)
    runner = SimpleNamespace(visualizer=vis, iter=7)
    hook.before_val_epoch(runner)
    hook.after_val_iter(runner, 0, {}, samples[:1])
    hook.after_val_iter(runner, 1, {}, samples[1:])
    folder = osp.join(str(tmp_path), 'vis_data', 'vis_image')
    assert sorted(os.listdir(folder)) == ['val_im0_7.png', 'val_im1_7.png']
    panel = cv2.imread(osp.join(folder, 'val_im1_7.png'))
    assert panel.shape[:2] == panel_size((H, W), 5, 2, [18, 32])
    assert (panel[TITLE_HEIGHT:TITLE_HEIGHT + H, :W] == 40).all()
