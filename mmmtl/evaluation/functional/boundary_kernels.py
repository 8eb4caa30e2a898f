# Copyright (c) mmmtl contributors. All rights reserved.
"""Compiled (numba) kernels of the boundary F protocol.

Two steps of :func:`~mmmtl.evaluation.functional.boundary_f.
boundary_pr_counts` run at every one of the 99 thresholds and dominate its
time when written with array operations:

* :func:`thin_fast`: the same thinning as
  :func:`mmmtl.utils.boundary_morphology.thin` (MATLAB
  ``bwmorph(.., 'thin', Inf)``), visiting only foreground pixels instead of
  filtering the whole image per subiteration;
* :func:`hopcroft_karp`: a maximum bipartite matching (Hopcroft-Karp) that
  can start from a given matching, so each threshold starts from the
  previous threshold's result. SciPy's ``maximum_bipartite_matching``
  solves the same problem but took up to 8 s on one 240x320 boundary graph
  whose maximum matching is nearly perfect.

Both are tested against the array / SciPy reference implementations, which
stay in the package (``thin``, :func:`~mmmtl.evaluation.functional.
boundary_f.match_boundaries`).
"""
from typing import Optional

import numba
import numpy as np

from mmmtl.utils.boundary_morphology import thinning_luts


@numba.njit(cache=True)
def _thin_kernel(image: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                 first: np.ndarray, second: np.ndarray,
                 max_iter: int) -> None:  # pragma: no cover (compiled)
    n = ys.size
    delete = np.zeros(n, dtype=np.bool_)
    iteration = 0
    while max_iter < 0 or iteration < max_iter:
        changed = False
        for sub in range(2):
            table = first if sub == 0 else second
            for i in range(n):
                y = ys[i]
                x = xs[i]
                code = (np.int64(image[y, x + 1]) +
                        2 * image[y - 1, x + 1] +
                        4 * image[y - 1, x] + 8 * image[y - 1, x - 1] +
                        16 * image[y, x - 1] + 32 * image[y + 1, x - 1] +
                        64 * image[y + 1, x] + 128 * image[y + 1, x + 1])
                delete[i] = table[code]
            # apply the deletions together, then keep only the survivors
            kept = 0
            for i in range(n):
                if delete[i]:
                    image[ys[i], xs[i]] = 0
                    changed = True
                else:
                    ys[kept] = ys[i]
                    xs[kept] = xs[i]
                    kept += 1
            n = kept
        iteration += 1
        if not changed:
            break


def thin_fast(binary: np.ndarray, max_iter: int = -1) -> np.ndarray:
    """Thin a binary image; identical to ``boundary_morphology.thin``.

    Args:
        binary (np.ndarray): (H, W) array, non-zero = foreground.
        max_iter (int): Maximum number of iterations, -1 for no limit.

    Returns:
        np.ndarray: (H, W) bool thinned image.
    """
    if binary.ndim != 2:
        raise ValueError(f'thin expects a 2-D image, got shape '
                         f'{binary.shape}')
    h, w = binary.shape
    padded = np.zeros((h + 2, w + 2), dtype=np.uint8)
    padded[1:-1, 1:-1] = np.asarray(binary) != 0
    ys, xs = np.nonzero(padded)
    if ys.size:
        first, second = thinning_luts()
        _thin_kernel(padded, ys, xs, first, second, int(max_iter))
    return padded[1:-1, 1:-1].view(bool)


@numba.njit(cache=True)
def _neighbour_csr(py: np.ndarray, px: np.ndarray, cols_index: np.ndarray,
                   offsets: np.ndarray):  # pragma: no cover (compiled)
    h, w = cols_index.shape
    n = py.size
    indptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        count = 0
        for k in range(offsets.shape[0]):
            y = py[i] + offsets[k, 0]
            x = px[i] + offsets[k, 1]
            if 0 <= y < h and 0 <= x < w and cols_index[y, x] >= 0:
                count += 1
        indptr[i + 1] = indptr[i] + count
    indices = np.empty(indptr[n], dtype=np.int64)
    for i in range(n):
        pos = indptr[i]
        for k in range(offsets.shape[0]):
            y = py[i] + offsets[k, 0]
            x = px[i] + offsets[k, 1]
            if 0 <= y < h and 0 <= x < w and cols_index[y, x] >= 0:
                indices[pos] = cols_index[y, x]
                pos += 1
    return indptr, indices


def neighbour_csr(py: np.ndarray, px: np.ndarray, cols_index: np.ndarray,
                  offsets: np.ndarray):
    """CSR adjacency of pixels to the marked pixels at given offsets.

    Args:
        py (np.ndarray): (N,) row coordinates of the row pixels.
        px (np.ndarray): (N,) column coordinates.
        cols_index (np.ndarray): (H, W) column index of a marked pixel, -1
            elsewhere.
        offsets (np.ndarray): (M, 2) integer (dy, dx) offsets.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``indptr`` (N + 1,) and ``indices``.
    """
    return _neighbour_csr(np.ascontiguousarray(py, dtype=np.int64),
                          np.ascontiguousarray(px, dtype=np.int64),
                          np.ascontiguousarray(cols_index, dtype=np.int64),
                          np.ascontiguousarray(offsets, dtype=np.int64))


@numba.njit(cache=True)
def _hopcroft_karp(indptr: np.ndarray, indices: np.ndarray, n_right: int,
                   match_left: np.ndarray) -> int:  # pragma: no cover
    n_left = indptr.size - 1
    match_right = np.full(n_right, -1, dtype=np.int64)
    for u in range(n_left):
        if match_left[u] >= 0:
            match_right[match_left[u]] = u
    # greedy start for the free left vertices
    for u in range(n_left):
        if match_left[u] >= 0:
            continue
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            if match_right[v] < 0:
                match_left[u] = v
                match_right[v] = u
                break
    inf = n_left + 1
    dist = np.empty(n_left, dtype=np.int64)
    queue = np.empty(n_left, dtype=np.int64)
    edge_pos = np.empty(n_left, dtype=np.int64)
    stack = np.empty(n_left + 1, dtype=np.int64)
    via = np.empty(n_left + 1, dtype=np.int64)
    while True:
        # BFS: layers of left vertices from the free ones
        head = 0
        tail = 0
        for u in range(n_left):
            if match_left[u] < 0:
                dist[u] = 0
                queue[tail] = u
                tail += 1
            else:
                dist[u] = inf
        found = False
        while head < tail:
            u = queue[head]
            head += 1
            for k in range(indptr[u], indptr[u + 1]):
                w = match_right[indices[k]]
                if w < 0:
                    found = True
                elif dist[w] == inf:
                    dist[w] = dist[u] + 1
                    queue[tail] = w
                    tail += 1
        if not found:
            break
        # DFS along the layers from every free left vertex
        for u in range(n_left):
            edge_pos[u] = indptr[u]
        for s in range(n_left):
            if match_left[s] >= 0:
                continue
            top = 0
            stack[0] = s
            while top >= 0:
                u = stack[top]
                pushed = False
                while edge_pos[u] < indptr[u + 1]:
                    v = indices[edge_pos[u]]
                    edge_pos[u] += 1
                    w = match_right[v]
                    if w < 0:
                        via[top] = v
                        for i in range(top, -1, -1):
                            match_left[stack[i]] = via[i]
                            match_right[via[i]] = stack[i]
                        top = -1
                        pushed = True
                        break
                    if dist[w] == dist[u] + 1:
                        via[top] = v
                        top += 1
                        stack[top] = w
                        pushed = True
                        break
                if top < 0:
                    break
                if not pushed:
                    dist[u] = inf  # dead end for this phase
                    top -= 1
    size = 0
    for u in range(n_left):
        if match_left[u] >= 0:
            size += 1
    return size


def hopcroft_karp(indptr: np.ndarray, indices: np.ndarray, n_right: int,
                  match_left: Optional[np.ndarray] = None) -> np.ndarray:
    """Maximum matching of a bipartite graph in CSR form.

    Args:
        indptr (np.ndarray): (N + 1,) CSR row pointers (left vertices).
        indices (np.ndarray): (E,) right vertex of each edge.
        n_right (int): Number of right vertices.
        match_left (np.ndarray, optional): (N,) a valid starting matching
            (right vertex or -1 per left vertex); empty when ``None``.

    Returns:
        np.ndarray: (N,) int64 right vertex matched to each left vertex, -1
        if unmatched; a maximum matching.
    """
    n_left = indptr.size - 1
    if match_left is None:
        match_left = np.full(n_left, -1, dtype=np.int64)
    else:
        match_left = np.array(match_left, dtype=np.int64, copy=True)
    if n_left and n_right:
        _hopcroft_karp(np.ascontiguousarray(indptr, dtype=np.int64),
                       np.ascontiguousarray(indices, dtype=np.int64),
                       int(n_right), match_left)
    return match_left
