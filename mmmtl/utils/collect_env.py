# Copyright (c) mmmtl contributors. All rights reserved.
"""Environment report, as MMSegmentation's ``collect_env``."""
from typing import Dict

from mmengine.logging import MMLogger
from mmengine.utils import get_git_hash
from mmengine.utils.dl_utils import collect_env as collect_base_env

import mmmtl


def collect_env() -> Dict[str, str]:
    """Versions of the platform, PyTorch, OpenMMLab packages and mmmtl.

    Returns:
        dict[str, str]: Name -> version/description.
    """
    import mmcv
    import mmengine
    import mmseg
    env_info = collect_base_env()
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
    logger = MMLogger.get_instance('mmmtl')
    for name, value in collect_env().items():
        logger.info(f'{name}: {value}')
