# Copyright (c) mmmtl contributors. All rights reserved.
"""Saves every test prediction to files (``tools/test.py --out``)."""
from typing import Sequence

from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmseg.registry import HOOKS

from mmmtl.structures import MultiTaskDataSample
from mmmtl.utils.prediction_io import save_predictions


@HOOKS.register_module()
class DumpPredictionsHook(Hook):
    """Write each test image's task predictions under ``out_dir``.

    Formats are those of :mod:`mmmtl.utils.prediction_io`; each file is
    written atomically, so an interrupted run leaves only whole files.

    Args:
        out_dir (str): Output folder.
    """
    priority = 'LOW'

    def __init__(self, out_dir: str):
        self.out_dir = out_dir

    def after_test_iter(self, runner: Runner, batch_idx: int,
                        data_batch: dict,
                        outputs: Sequence[MultiTaskDataSample]) -> None:
        """Save the batch's predictions."""
        metainfo = runner.test_dataloader.dataset.metainfo
        for sample in outputs:
            save_predictions(sample, self.out_dir, metainfo)
