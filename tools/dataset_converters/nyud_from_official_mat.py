# Copyright (c) mmmtl contributors. All rights reserved.
"""Build the NYUD_MT layout from the official NYU Depth v2 labelled release.

Inputs (all public):

* ``nyu_depth_v2_labeled.mat`` (MATLAB v7.3 / HDF5; needs ``h5py``):
  ``images`` (RGB), ``depths`` (metres), ``labels`` (894 classes, 0 =
  unlabelled);
* ``splits.mat`` with ``trainNdxs`` / ``testNdxs`` (1-based, 795 / 654);
* ``classMapping40.mat`` (Gupta et al.) with ``mapClass``: 894 -> 40.

Output (what :class:`~mmmtl.datasets.NYUDMultiTaskDataset` reads)::

    <out>/images/<id>.jpg  segmentation/<id>.png (0 = unlabelled, 1..40)
    <out>/depth/<id>.npy   edge/<id>.npy   gt_sets/{train,val}.txt

Ids are the 1-based image indices zero-padded to 4 digits (``0001``).

Not produced: ``normals/`` (the toolbox's normals come from a separate
normal-estimation pipeline; copy them from the toolbox's ``NYUD_MT``
archive, or train without the normals task). Edges are computed from the
40-class segmentation with the same Laplacian + thinning rule as PASCAL-
Context (:func:`mmmtl.utils.boundary_morphology.label_map_edges`);
the toolbox's distributed NYUD edges may differ slightly. Note the official
depth is the in-painted (filled) depth; the toolbox's depth files may use
the raw depth with holes (0). Prefer the toolbox archive for paper numbers.

Usage::

    python tools/dataset_converters/nyud_from_official_mat.py \
        nyu_depth_v2_labeled.mat splits.mat classMapping40.mat \
        --out data/NYUD_MT
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar
from scipy.io import loadmat

from mmmtl.utils.boundary_morphology import label_map_edges


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('labeled_mat', help='nyu_depth_v2_labeled.mat')
    parser.add_argument('splits_mat', help='splits.mat')
    parser.add_argument('mapping_mat', help='classMapping40.mat')
    parser.add_argument('--out', default='data/NYUD_MT')
    return parser.parse_args()


def map_to_40(labels: np.ndarray, map_class: np.ndarray) -> np.ndarray:
    """894-class labels (0 = unlabelled) -> 40 classes (0 = unlabelled)."""
    lut = np.zeros(len(map_class) + 1, dtype=np.uint8)
    lut[1:] = map_class
    return lut[labels]


def main() -> None:
    args = parse_args()
    try:
        import h5py
    except ImportError:
        raise SystemExit('nyu_depth_v2_labeled.mat is an HDF5 (v7.3) file: '
                         'install h5py to read it (pip install h5py)')
    logger = MMLogger.get_instance('nyud_converter')
    splits = loadmat(args.splits_mat)
    map_class = np.asarray(loadmat(args.mapping_mat)['mapClass']).reshape(-1)
    for folder in ('images', 'segmentation', 'depth', 'edge', 'gt_sets'):
        os.makedirs(osp.join(args.out, folder), exist_ok=True)
    with h5py.File(args.labeled_mat, 'r') as mat:
        # HDF5 stores MATLAB arrays transposed: (N, C, W, H) / (N, W, H).
        images, depths, labels = mat['images'], mat['depths'], mat['labels']
        num = images.shape[0]
        progress = ProgressBar(num)
        for i in range(num):
            sample_id = f'{i + 1:04d}'
            rgb = np.asarray(images[i]).transpose(2, 1, 0)
            cv2.imwrite(osp.join(args.out, 'images', f'{sample_id}.jpg'),
                        np.ascontiguousarray(rgb[..., ::-1]),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            seg = map_to_40(np.asarray(labels[i]).T.astype(np.int64),
                            map_class)
            cv2.imwrite(osp.join(args.out, 'segmentation',
                                 f'{sample_id}.png'), seg)
            np.save(osp.join(args.out, 'depth', f'{sample_id}.npy'),
                    np.asarray(depths[i]).T.astype(np.float32))
            np.save(osp.join(args.out, 'edge', f'{sample_id}.npy'),
                    label_map_edges(seg).astype(np.float32))
            progress.update()
    for name, key in (('train', 'trainNdxs'), ('val', 'testNdxs')):
        ids = [f'{int(i):04d}' for i in np.asarray(splits[key]).reshape(-1)]
        with open(osp.join(args.out, 'gt_sets', f'{name}.txt'), 'w') as f:
            f.write('\n'.join(ids) + '\n')
        logger.info(f'{name}: {len(ids)} ids')
    logger.info(f'NYUD_MT layout written to {args.out} (normals/ not '
                'included: copy them from the toolbox archive)')


if __name__ == '__main__':
    main()
