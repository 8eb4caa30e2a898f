"""Every annotation is checked against the encoding its dataset declares:
the three common storage mistakes are refused naming the file, the values
seen and the expected encoding, in training and in check_dataset.py."""
import importlib.util
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from mmmtl.datasets import SyntheticMultiTaskDataset
from mmmtl.datasets.transforms import AnnotationError, decode_annotation
from mmmtl.structures import TASKS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PIPELINE = [dict(type='LoadMultiTaskImageFromFile'),
            dict(type='LoadMultiTaskAnnotations')]


def _copy(root, tmp_path):
    copy = str(tmp_path / 'synthetic')
    shutil.copytree(root, copy)
    with open(osp.join(copy, 'splits', 'train.txt')) as f:
        first = f.readline().strip()
    return copy, first


def _rewrite(root, task, sample, convert):
    path = osp.join(root, task, f'{sample}.png')
    array = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert cv2.imwrite(path, convert(array))
    return path


def _first_item(root):
    dataset = SyntheticMultiTaskDataset(
        data_root=root, generate_if_missing=False, pipeline=PIPELINE)
    return dataset[0]


MISTAKES = {
    # edges as {0, 255}: 255 is the edge ignore value
    'edge': (lambda a: a * np.uint8(255),
             r"edge annotation \(uint8, values \[0, 255\]\) does not match "
             r"the declared encoding 'binary' \(\{0, 1\}: 1 positive\): "
             r"values \[0, 255\] seen, \[255\] outside \{0, 1\}; the file "
             r"fits encoding \['binary_255', 'grey', 'binary_ignore'\]: .*"
             r"label_encodings=dict\(edge='binary_255'\)"),
    # saliency as {0, 1}: it would decode as all negative
    'saliency': (lambda a: (a > 0).astype(np.uint8),
                 r"saliency annotation \(uint8, values \[0, 1\]\) does not "
                 r"match the declared encoding 'binary_255' \(\{0, 255\}: "
                 r"255 positive\): values \[0, 1\] seen, \[1\] outside "
                 r"\{0, 255\}; the file fits encoding \['binary'"),
    # depth as 8-bit: 0.14-0.26 m instead of metres
    'depth': (lambda a: (a // 1000).astype(np.uint8),
              r"depth annotation \(uint8, values \[.*\]\) does not match "
              r"the declared encoding 'uint16_mm' \(uint16 millimetres, 0 = "
              r"invalid\): dtype uint8, expected uint16"),
}


@pytest.mark.parametrize('task', sorted(MISTAKES))
def test_storage_mistake_is_refused_naming_the_file(tiny_synthetic_root,
                                                    tmp_path, task):
    root, sample = _copy(tiny_synthetic_root, tmp_path)
    convert, message = MISTAKES[task]
    path = _rewrite(root, task, sample, convert)
    with pytest.raises(AnnotationError, match=message) as info:
        _first_item(root)
    assert str(info.value).startswith(f'{path}: ')


def test_dataset_config_can_declare_another_encoding(tiny_synthetic_root,
                                                     tmp_path):
    root, sample = _copy(tiny_synthetic_root, tmp_path)
    path = _rewrite(root, 'edge', sample, MISTAKES['edge'][0])
    dataset = SyntheticMultiTaskDataset(
        data_root=root, generate_if_missing=False, pipeline=PIPELINE,
        label_encodings=dict(edge='binary_255'))
    edge = dataset[0]['gt_edge_map']
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(edge, (raw == 255).astype(np.int64))
    assert edge.max() == 1
    with pytest.raises(KeyError, match="no label encoding 'binary_256'"):
        SyntheticMultiTaskDataset(data_root=root, generate_if_missing=False,
                                  label_encodings=dict(edge='binary_256'))


def test_check_dataset_reports_each_mistake_in_one_pass(tiny_synthetic_root,
                                                        tmp_path):
    spec = importlib.util.spec_from_file_location(
        'check_dataset_tool', osp.join(REPO, 'tools/misc/check_dataset.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    root, sample = _copy(tiny_synthetic_root, tmp_path)
    paths = {task: _rewrite(root, task, sample, convert)
             for task, (convert, _) in MISTAKES.items()}
    cfg = dict(type='SyntheticMultiTaskDataset', data_root=root,
               split='train', pipeline=[])
    report = dict(errors=[], warnings=[], datasets=[])
    tool.scan_dataset('train', cfg, report)
    assert len(report['errors']) == 3, report['errors']
    for task, path in paths.items():
        found = [e for e in report['errors'] if path in e]
        assert len(found) == 1 and 'declared encoding' in found[0], task


def test_each_declared_encoding_decodes():
    edge, sal, depth = TASKS['edge'], TASKS['saliency'], TASKS['depth']
    raw = np.array([[0, 255, 255]], np.uint8)
    np.testing.assert_array_equal(
        decode_annotation(raw, edge, encoding='binary_255'), [[0, 1, 1]])
    grey = np.array([[0, 127, 128, 255]], np.uint8)
    np.testing.assert_array_equal(
        decode_annotation(grey, sal, encoding='grey'), [[0, 0, 1, 1]])
    prob = np.array([[0.0, 0.5, 0.51, 1.0]], np.float32)
    np.testing.assert_array_equal(
        decode_annotation(prob, sal, encoding='probability'), [[0, 0, 1, 1]])
    ignore = np.array([[0, 1, 255]], np.uint8)
    np.testing.assert_array_equal(
        decode_annotation(ignore, edge, encoding='binary_ignore'),
        [[0, 1, 255]])
    mm = np.array([[0, 2500]], np.uint16)
    np.testing.assert_allclose(
        decode_annotation(mm, depth, encoding='uint16_mm'), [[0, 2.5]])
    metres = np.array([[0, 2.5]], np.float64)
    np.testing.assert_allclose(decode_annotation(metres, depth), [[0, 2.5]])


@pytest.mark.parametrize('task,raw,encoding,message', [
    ('saliency', np.array([[0, 1]], np.uint8), 'grey',
     r"values \[0, 1\] only: a \{0, 1\} mask, which this encoding would "
     r"decode to all negative"),
    ('saliency', np.array([[0, 1.5]], np.float32), 'probability',
     r'values in \[0, 1.5\], expected \[0, 1\]'),
    ('depth', np.array([[0, 2500]], np.uint16), None,
     r"'float' .*: dtype uint16 is not accepted; the file fits encoding "
     r"\['uint16_mm'\]"),
    ('semseg', np.array([[0, 1.5]], np.float32), None,
     r'non-integer values such as \[1.5\]'),
    ('normals', np.zeros((1, 1, 3), np.uint8), 'uint16',
     'dtype uint8, expected uint16'),
    ('edge', np.zeros((1, 2), np.uint8), 'binary_256',
     r"task 'edge' has no label encoding 'binary_256'"),
])
def test_undeclared_encodings_are_refused(task, raw, encoding, message):
    with pytest.raises(AnnotationError, match=message) as info:
        decode_annotation(raw, TASKS[task], encoding=encoding,
                          path='x/f.png')
    assert str(info.value).startswith('x/f.png: ')
