"""``import mmmtl`` survives MMPretrain's failing multimodal import.

The GPU-image failure (transformers 5 + pycocotools make mmpretrain 1.2.0
import its multimodal models, whose import raises ``TypeError: NoneType
takes no arguments``) is reproduced without transformers: a stand-in
``transformers`` 5.0.0 distribution that lacks the names mmpretrain's BLIP
imports is put first on ``sys.path`` of a subprocess.
"""
import importlib.util
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

from mmmtl.utils.optional_imports import MultimodalImportGuard

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SWINV2 = osp.join(REPO, 'configs/hps/hps_swinv2-s_20k_nyuv2-13-288x384.py')


#: What mmpretrain 1.2.0 imports from transformers outside its multimodal
#: models (models/utils/huggingface.py, tokenizer.py), all present in
#: transformers 5; the names BLIP's language model imports
#: (transformers.activations, modeling_outputs, apply_chunking_to_forward,
#: ...) are absent, as the ones transformers 5 removed are.
FAKE_TRANSFORMERS = '''
__version__ = "5.0.0"


class _Pretrained:
    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        raise OSError('stand-in transformers: nothing to load')


class PreTrainedModel(_Pretrained):
    config_class = None


class AutoConfig(_Pretrained):
    pass


for _name in ('AutoTokenizer', 'BartTokenizer', 'BasicTokenizer',
              'BertTokenizer', 'BertTokenizerFast', 'LlamaTokenizer',
              'WordpieceTokenizer'):
    globals()[_name] = type(_name, (_Pretrained, ), {})

from .models.auto.auto_factory import _BaseAutoModelClass  # noqa: E402


class AutoModelForCausalLM(_BaseAutoModelClass):
    pass
'''


def _fake_distribution(root, name, version, files):
    info = root / f'{name}-{version}.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text(
        f'Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n')
    pkg = root / name
    pkg.mkdir()
    for rel, text in files.items():
        (pkg / rel).write_text(text)


@pytest.fixture(scope='module')
def transformers5(tmp_path_factory):
    """A folder with a transformers 5.0.0 that has none of the names
    mmpretrain 1.2.0's BLIP language model imports (and pycocotools'
    metadata where it is not installed)."""
    root = tmp_path_factory.mktemp('site')
    _fake_distribution(root, 'transformers', '5.0.0', {
        '__init__.py': FAKE_TRANSFORMERS,
        'modeling_utils.py': 'from . import PreTrainedModel\n'})
    auto = root / 'transformers' / 'models' / 'auto'
    auto.mkdir(parents=True)
    for folder in (auto.parent, auto):
        (folder / '__init__.py').write_text('')
    (auto / 'auto_factory.py').write_text(
        'class _BaseAutoModelClass:\n'
        '    @classmethod\n'
        '    def from_config(cls, config):\n'
        '        raise OSError("stand-in transformers")\n')
    if importlib.util.find_spec('pycocotools') is None:
        _fake_distribution(root, 'pycocotools', '2.0.8',
                           {'__init__.py': ''})
    return str(root)


def _run(site, code):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [site, REPO, env.get('PYTHONPATH', '')])
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


def test_failure_mode_is_reproduced(transformers5):
    proc = _run(transformers5, '''
        import mmpretrain.models
        ''')
    assert proc.returncode != 0
    assert 'NoneType takes no arguments' in proc.stderr, proc.stderr[-3000:]


def test_mmmtl_imports_and_builds_swinv2(transformers5):
    proc = _run(transformers5, f'''
        import warnings
        warnings.simplefilter('always')
        import mmmtl
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        from mmseg.registry import MODELS
        from mmpretrain.utils.dependency import WITH_MULTIMODAL
        assert WITH_MULTIMODAL  # the failing configuration is active
        init_default_scope('mmseg')
        cfg = Config.fromfile({SWINV2!r})
        cfg.model.backbone.update(init_cfg=None)
        backbone = MODELS.build(cfg.model.backbone)
        print(type(backbone).__module__, type(backbone).__name__)
        ''')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'mmpretrain.models.backbones.swin_transformer_v2 ' \
        'SwinTransformerV2' in proc.stdout
    assert 'multimodal models (BLIP, CLIP, ...) are disabled' in out
    assert 'NoneType takes no arguments' in out  # the contained error


def test_guard_contains_a_failing_package(tmp_path, monkeypatch):
    pkg = tmp_path / 'fake_mm_host'
    (pkg / 'multimodal').mkdir(parents=True)
    (pkg / '__init__.py').write_text('from .multimodal import *\nOK = 1\n')
    (pkg / 'multimodal' / '__init__.py').write_text(
        'from .blip import *\n')
    (pkg / 'multimodal' / 'blip.py').write_text(
        'PreTrainedModel = None\nclass Bert(PreTrainedModel):\n    pass\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    guard = MultimodalImportGuard('fake_mm_host.multimodal')
    monkeypatch.setattr(sys, 'meta_path', [guard] + sys.meta_path)
    with pytest.warns(RuntimeWarning, match='NoneType takes no arguments'):
        import fake_mm_host
    assert fake_mm_host.OK == 1
    assert isinstance(guard.failure, TypeError)
    assert 'fake_mm_host.multimodal.blip' not in sys.modules
    for name in [n for n in sys.modules if n.startswith('fake_mm_host')]:
        del sys.modules[name]
