# Copyright (c) mmmtl contributors. All rights reserved.
"""Helpers shared by the dataset classes: split files and palettes."""
import os.path as osp
from typing import List, Optional

import numpy as np


def make_palette(num_classes: int, seed: int = 0) -> List[List[int]]:
    """Deterministic, distinct-looking RGB colours for ``num_classes``.

    Args:
        num_classes (int): Number of colours.
        seed (int): Seed of the colour generator.

    Returns:
        list[list[int]]: ``num_classes`` RGB triples in ``[30, 255]``.
    """
    rng = np.random.default_rng(seed)
    return rng.integers(30, 256, size=(num_classes, 3)).tolist()


def read_id_file(path: str, owner: str) -> List[str]:
    """Non-empty stripped lines of an id list, with a clear error.

    Args:
        path (str): The list file.
        owner (str): Dataset class name, for the message.

    Returns:
        list[str]: The ids in file order.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{owner}: split file {path} not found; see '
            'docs/en/user_guides/dataset_prepare.md for the expected layout')
    with open(path) as f:
        ids = [line.strip() for line in f if line.strip()]
    if not ids:
        raise ValueError(f'{owner}: split file {path} lists no samples')
    return ids


def resolve_split_file(data_root: str, split_file: Optional[str]) -> \
        Optional[str]:
    """``split_file`` relative to ``data_root`` unless absolute.

    Args:
        data_root (str): The dataset folder.
        split_file (str, optional): An id list, absolute or relative to
            ``data_root``.

    Returns:
        str | None: The path of the list (``None`` for ``None``).
    """
    if split_file is None:
        return None
    return split_file if osp.isabs(split_file) else osp.join(
        data_root, split_file)
