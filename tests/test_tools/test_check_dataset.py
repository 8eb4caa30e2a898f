"""tools/misc/check_dataset.py reports every problem in one pass."""
import importlib.util
import os
import os.path as osp
import shutil

import cv2
import numpy as np

from training_helpers import REPO, dump_cfg, tiny_train_cfg

spec = importlib.util.spec_from_file_location(
    'check_dataset_tool', osp.join(REPO, 'tools/misc/check_dataset.py'))
check_dataset = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_dataset)

TASK_FOLDERS = ('semseg', 'depth', 'normals', 'edge', 'saliency')


def _ids(root, split):
    with open(osp.join(root, 'splits', f'{split}.txt')) as f:
        return [line.strip() for line in f if line.strip()]


def test_clean_dataset_passes(tiny_synthetic_root, tmp_path):
    cfg = tiny_train_cfg(tiny_synthetic_root, iters=1, ckpt_interval=1)
    path = dump_cfg(cfg, str(tmp_path / 'check_cfg.py'))
    out = str(tmp_path / 'report.json')
    assert check_dataset.main([path, '--out', out]) == 0
    assert osp.isfile(out)


def test_every_problem_is_reported_in_one_pass(tiny_synthetic_root,
                                               tmp_path):
    root = str(tmp_path / 'synthetic')
    shutil.copytree(tiny_synthetic_root, root)
    train, val = _ids(root, 'train'), _ids(root, 'val')
    expected = []
    # 1. a missing annotation
    path = osp.join(root, 'semseg', f'{train[0]}.png')
    os.remove(path)
    expected.append(f'{path}: file not found')
    # 2. an unreadable image (its annotations are still checked)
    path = osp.join(root, 'images', f'{train[1]}.png')
    with open(path, 'wb') as f:
        f.write(b'\x89PNG truncated')
    expected.append(f'{path}: OpenCV cannot decode')
    # 3. a label beyond the 6 classes that is not the ignore value
    path = osp.join(root, 'semseg', f'{train[2]}.png')
    labels = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    labels[0, 0] = 9
    cv2.imwrite(path, labels)
    expected.append(f'{path}: semseg labels [9] are outside [0, 5]')
    # 4. an annotation whose size differs from the image
    path = osp.join(root, 'depth', f'{train[3]}.png')
    depth = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    cv2.imwrite(path, depth[:-2])
    expected.append(f'{path}: depth annotation is')
    # 5. a split entry without any file: the image and all 5 annotations
    with open(osp.join(root, 'splits', 'train.txt'), 'a') as f:
        f.write('ghost\n')
    expected.append(osp.join(root, 'images', 'ghost.png') + ': file not')
    expected += [osp.join(root, t, 'ghost.png') + ': file not found'
                 for t in TASK_FOLDERS]
    # 6. a binary label out of range in the validation split
    path = osp.join(root, 'edge', f'{val[0]}.png')
    edge = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    edge[1, 1] = 3
    cv2.imwrite(path, edge)
    expected.append(f"{path}: edge annotation (uint8, values [0, 1, 3]) does "
                    "not match the declared encoding 'binary'")

    cfg = tiny_train_cfg(root, iters=1, ckpt_interval=1)
    report = check_dataset.check_config(cfg)
    errors = report['errors']
    for needle in expected:
        assert sum(needle in e for e in errors) == 1, (needle, errors)
    assert len(errors) == len(expected), errors
    by_name = {d['name']: d for d in report['datasets']}
    train_summary = by_name['train:SyntheticMultiTaskDataset']
    assert train_summary['samples'] == len(train) + 1
    assert train_summary['errors'] == len(expected) - 1
    assert by_name['val:SyntheticMultiTaskDataset']['errors'] == 1
    assert len(report['datasets']) == 2  # test == val: scanned once
    assert np.all([e.startswith(('train:', 'val:')) for e in errors])

    path = dump_cfg(cfg, str(tmp_path / 'check_bad_cfg.py'))
    assert check_dataset.main([path]) == 1


def test_config_task_disagreement_is_an_error(tiny_synthetic_root):
    cfg = tiny_train_cfg(tiny_synthetic_root, iters=1, ckpt_interval=1)
    cfg.val_evaluator = dict(type='MultiTaskMetric', tasks=['semseg'])
    report = check_dataset.check_config(cfg, splits=['val'],
                                        max_samples=1)
    assert any(e.startswith('config: ') and 'val_evaluator' in e
               for e in report['errors'])
