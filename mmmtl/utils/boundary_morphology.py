# Copyright (c) mmmtl contributors. All rights reserved.
"""Binary morphology for boundary maps: thinning, label-map boundaries.

* :func:`thin` is the two-subiteration parallel thinning of Guo & Hall
  (1989) in the form given by Lam, Lee & Suen (1992, "Thinning
  methodologies - a comprehensive survey", p. 879). It is the algorithm of
  MATLAB's ``bwmorph(BW, 'thin', Inf)`` (used by the BSDS/SEISM edge
  benchmark on predictions) and of ``skimage.morphology.thin`` (used by the
  multi-task toolbox to build the PASCAL-Context edge ground truth); it is
  reimplemented here with a 256-entry lookup table so that neither MATLAB
  nor scikit-image is needed.
* :func:`label_map_edges` builds the PASCAL-Context edge ground truth the way
  the toolbox does: pixels where the 4-neighbour Laplacian of the label map
  is non-zero, thinned.
* :func:`seg2bmap` is the BSDS one-sided boundary map of a segmentation (the
  edge ground truth SEISM derives from a label map).
"""
from functools import lru_cache
from typing import Tuple

import cv2
import numpy as np

# Offsets (dy, dx) of the neighbours x1..x8 of Lam et al.: x1 east, then
# counter-clockwise (x2 north-east, x3 north, ..., x8 south-east). Bit k-1 of
# a neighbourhood code holds x_k.
_NEIGHBOURS: Tuple[Tuple[int, int], ...] = ((0, 1), (-1, 1), (-1, 0),
                                            (-1, -1), (0, -1), (1, -1),
                                            (1, 0), (1, 1))


@lru_cache(maxsize=1)
def thinning_luts() -> Tuple[np.ndarray, np.ndarray]:
    """Deletion tables of the two subiterations, indexed by the code.

    A pixel ``p`` with neighbours ``x1..x8`` (``x9 = x1``) is deleted in the
    first subiteration when G1, G2 and G3 hold, in the second when G1, G2
    and G3' hold:

    * G1: ``X_H(p) = 1`` with ``X_H = sum_i b_i``, ``b_i = 1`` iff
      ``x_{2i-1} = 0`` and (``x_{2i} = 1`` or ``x_{2i+1} = 1``);
    * G2: ``2 <= min(n1, n2) <= 3`` with ``n1 = sum_k x_{2k-1} | x_{2k}``,
      ``n2 = sum_k x_{2k} | x_{2k+1}``;
    * G3: ``(x2 | x3 | ~x8) & x1 = 0``; G3': ``(x6 | x7 | ~x4) & x5 = 0``.

    Returns:
        tuple[np.ndarray, np.ndarray]: Two (256,) bool tables.
    """
    first = np.zeros(256, dtype=bool)
    second = np.zeros(256, dtype=bool)
    for code in range(256):
        x = [None] + [(code >> k) & 1 for k in range(8)] + [code & 1]
        x_h = sum(1 for i in range(1, 5)
                  if x[2 * i - 1] == 0 and (x[2 * i] or x[2 * i + 1]))
        n1 = sum(x[2 * k - 1] | x[2 * k] for k in range(1, 5))
        n2 = sum(x[2 * k] | x[2 * k + 1] for k in range(1, 5))
        g12 = x_h == 1 and 2 <= min(n1, n2) <= 3
        g3 = ((x[2] | x[3] | (1 - x[8])) & x[1]) == 0
        g3p = ((x[6] | x[7] | (1 - x[4])) & x[5]) == 0
        first[code] = g12 and g3
        second[code] = g12 and g3p
    return first, second


@lru_cache(maxsize=1)
def _code_kernel() -> np.ndarray:
    """3x3 correlation kernel holding ``2 ** (k - 1)`` at neighbour x_k."""
    kernel = np.zeros((3, 3), dtype=np.float32)
    for bit, (dy, dx) in enumerate(_NEIGHBOURS):
        kernel[1 + dy, 1 + dx] = 2**bit
    return kernel


def _neighbour_codes(image: np.ndarray) -> np.ndarray:
    """(H, W) uint8 code of each pixel's 8 neighbours (outside = 0)."""
    codes = cv2.filter2D(image.astype(np.uint8), cv2.CV_32F, _code_kernel(),
                         borderType=cv2.BORDER_CONSTANT)
    return codes.astype(np.uint8)


def thin(binary: np.ndarray, max_iter: int = -1) -> np.ndarray:
    """Thin a binary image to one-pixel-wide 8-connected curves.

    Equivalent to MATLAB ``bwmorph(binary, 'thin', max_iter)`` (``Inf`` for
    ``max_iter=-1``) and ``skimage.morphology.thin``: pixels outside the
    image count as background; each iteration applies the two subiterations
    of :func:`thinning_luts` in parallel; it stops when nothing changes.

    Args:
        binary (np.ndarray): (H, W) array, non-zero = foreground.
        max_iter (int): Maximum number of iterations, -1 for no limit.

    Returns:
        np.ndarray: (H, W) bool thinned image.
    """
    if binary.ndim != 2:
        raise ValueError(f'thin expects a 2-D image, got shape '
                         f'{binary.shape}')
    image = np.asarray(binary) != 0
    if not image.any():
        return image
    # Work on the bounding box of the foreground (plus a border) only.
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    r0, r1 = max(rows[0] - 1, 0), min(rows[-1] + 2, image.shape[0])
    c0, c1 = max(cols[0] - 1, 0), min(cols[-1] + 2, image.shape[1])
    work = image[r0:r1, c0:c1].copy()
    first, second = thinning_luts()
    iteration = 0
    while max_iter < 0 or iteration < max_iter:
        changed = False
        for table in (first, second):
            delete = work & table[_neighbour_codes(work)]
            if delete.any():
                work[delete] = False
                changed = True
        iteration += 1
        if not changed:
            break
    out = np.zeros_like(image)
    out[r0:r1, c0:c1] = work
    return out


def label_map_edges(label_map: np.ndarray) -> np.ndarray:
    """Edge ground truth of a label map, as the multi-task toolbox builds it.

    ``thin(|Laplacian(label_map)| > 0)`` with OpenCV's 3x3 4-neighbour
    Laplacian (``ksize=1``, border ``BORDER_REFLECT_101``): every pixel whose
    label differs from one of its 4 neighbours, i.e. a two-pixel-wide band
    along each label boundary, thinned to one pixel.

    Args:
        label_map (np.ndarray): (H, W) integer labels (e.g. the 459-class
            PASCAL-Context ``LabelMap``).

    Returns:
        np.ndarray: (H, W) int64 {0, 1} edge map.
    """
    if label_map.ndim != 2:
        raise ValueError(f'label_map_edges expects a 2-D label map, got '
                         f'shape {label_map.shape}')
    laplacian = cv2.Laplacian(label_map.astype(np.float64), cv2.CV_64F)
    return thin(np.abs(laplacian) > 0).astype(np.int64)


def seg2bmap(segmentation: np.ndarray) -> np.ndarray:
    """BSDS boundary map of a segmentation (same size, one-sided).

    A pixel is a boundary pixel when its east, south or south-east neighbour
    has another label; on the last row only the east neighbour counts, on
    the last column only the south one, and the corner pixel is never a
    boundary (as in the BSDS ``seg2bmap`` for equal sizes).

    Args:
        segmentation (np.ndarray): (H, W) labels.

    Returns:
        np.ndarray: (H, W) bool boundary map.
    """
    seg = np.asarray(segmentation)
    east = np.zeros_like(seg)
    south = np.zeros_like(seg)
    south_east = np.zeros_like(seg)
    east[:, :-1] = seg[:, 1:]
    south[:-1, :] = seg[1:, :]
    south_east[:-1, :-1] = seg[1:, 1:]
    bmap = (seg != east) | (seg != south) | (seg != south_east)
    bmap[-1, :] = seg[-1, :] != east[-1, :]
    bmap[:, -1] = seg[:, -1] != south[:, -1]
    bmap[-1, -1] = False
    return bmap
