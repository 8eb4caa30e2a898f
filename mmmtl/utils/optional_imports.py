# Copyright (c) mmmtl contributors. All rights reserved.
"""Keep ``import mmmtl`` working whatever optional packages are installed.

MMPretrain 1.2.0 imports its multimodal models (BLIP, BLIP-2, Flamingo, ...)
whenever ``pycocotools`` and ``transformers >= 4.28`` are both installed,
which is common on GPU images (MMDetection pulls in pycocotools). With
transformers 5 those modules fail at import time -- ``TypeError: NoneType
takes no arguments`` in ``mmpretrain/models/multimodal/blip/
language_model.py``, because names it imports from transformers were
removed -- and with them ``import mmpretrain``, every ``mmpretrain.*``
backbone of a config (Swin-V2) and mmmtl's CompL heads.

mmmtl uses none of the multimodal models. :func:`guard_mmpretrain_multimodal`
installs an import hook for exactly the package
``mmpretrain.models.multimodal``: it runs MMPretrain's own module, and if
that raises, logs a warning naming the error, drops the half-imported
multimodal submodules and leaves the package empty, so the rest of
MMPretrain imports as it does without the multimodal dependencies.
Everything else is imported unchanged.
"""
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType
from typing import Optional, Sequence

#: The MMPretrain package whose import failure is contained.
MULTIMODAL_PACKAGE = 'mmpretrain.models.multimodal'


class MultimodalImportGuard(importlib.abc.MetaPathFinder,
                            importlib.abc.Loader):
    """Meta-path finder + loader wrapping one package's real loader.

    Args:
        name (str): Fully qualified package name to guard.
    """

    def __init__(self, name: str = MULTIMODAL_PACKAGE):
        self.name = name
        self.failure: Optional[BaseException] = None
        self._loaders = {}

    def find_spec(self, fullname: str, path: Optional[Sequence[str]],
                  target: Optional[ModuleType] = None):
        """The real spec of the guarded package, with this loader."""
        if fullname != self.name:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        self._loaders[fullname] = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec) -> Optional[ModuleType]:
        return self._loaders[spec.name].create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        """Run the real module; on failure keep an empty package."""
        try:
            self._loaders[module.__name__].exec_module(module)
        except Exception as exc:  # transformers 5: TypeError, ImportError
            self.failure = exc
            for name in [n for n in sys.modules
                         if n.startswith(self.name + '.')]:
                del sys.modules[name]
            warnings.warn(
                f'{self.name} failed to import ({type(exc).__name__}: '
                f'{exc}); its multimodal models (BLIP, CLIP, ...) are '
                'disabled. mmmtl does not use them. Usual cause: '
                'transformers >= 5 with mmpretrain 1.2.0 (install '
                '"transformers<5" to use them).', RuntimeWarning,
                stacklevel=2)


def guard_mmpretrain_multimodal() -> MultimodalImportGuard:
    """Install the import guard once (idempotent) and return it.

    Has an effect only if MMPretrain was not imported yet; it is called at
    the top of ``mmmtl/__init__.py``.
    """
    for finder in sys.meta_path:
        # by name: a reloaded module defines a new class
        if type(finder).__name__ == MultimodalImportGuard.__name__:
            return finder
    guard = MultimodalImportGuard()
    sys.meta_path.insert(0, guard)
    return guard
