# Copyright (c) mmmtl contributors. All rights reserved.
"""Environment report, as MMSegmentation's ``collect_env``."""
from collections import OrderedDict

from mmengine.utils import get_git_hash
from mmengine.utils.dl_utils import collect_env as collect_base_env

import mmmtl

#: Multi-line values shown by their first line only when printed.
LONG_VALUES = ('PyTorch compiling details', )


class EnvReport(OrderedDict):
    """A ``dict`` of name -> version that prints as ``name: value`` lines.

    ``print(collect_env())`` gives one readable line per entry; the
    multi-kilobyte PyTorch build description is cut to its first line
    (the dict keeps it whole).
    """

    def __str__(self) -> str:
        lines = []
        for name, value in self.items():
            text = str(value).strip()
            if name in LONG_VALUES and '\n' in text:
                first = text.splitlines()[0].strip()
                text = (f'{first} ... ({len(text.splitlines()) - 1} more '
                        f"lines in collect_env()['{name}'])")
            lines.append(f'{name}: {text}')
        return '\n'.join(lines)


def collect_env() -> EnvReport:
    """Versions of the platform, PyTorch, OpenMMLab packages and mmmtl.

    Returns:
        EnvReport: Name -> version/description (a dict; ``str()`` of it is
        one ``name: value`` line per entry).
    """
    import mmcv
    import mmengine
    import mmseg
    env_info = EnvReport(collect_base_env())
    env_info['MMEngine'] = mmengine.__version__
    env_info['MMCV'] = mmcv.__version__
    env_info['MMSegmentation'] = mmseg.__version__
    try:
        import mmpretrain
        env_info['MMPretrain'] = mmpretrain.__version__
    except ImportError:
        env_info['MMPretrain'] = 'not installed'
    env_info['mmmtl'] = f'{mmmtl.__version__}+{get_git_hash()[:7]}'
    return env_info


if __name__ == '__main__':
    print(collect_env())  # noqa: T201
