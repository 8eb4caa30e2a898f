"""Every config of a method folder is listed in that folder's README.md.

A README may abbreviate a family of configs in a backticked name: ``...``
and ``*`` stand for any text, ``{a,b}`` for either alternative (e.g.
``mtcp-wo-cfm_...nyud...`` or ``compl-depth-{rot,moco}_r26.py``).
"""
import glob
import os.path as osp
import re

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CODE = re.compile(r'`([^`\n]+)`')
LINK = re.compile(r'\]\(([^)\s]+\.py)\)')


def name_pattern(token: str) -> re.Pattern:
    """Regex of the config names a backticked README token stands for."""
    parts = []
    for piece in re.split(r'(\.\.\.|\*|\{[^{}]*\})', token.strip()):
        if piece in ('...', '*'):
            parts.append('.*')
        elif piece.startswith('{') and piece.endswith('}'):
            parts.append('(?:' + '|'.join(
                re.escape(a.strip()) for a in piece[1:-1].split(',')) + ')')
        else:
            parts.append(re.escape(piece))
    return re.compile('(?:.*/)?' + ''.join(parts) + r'(?:\.py)?')


def listed_patterns(readme_text: str):
    tokens = [t for t in CODE.findall(readme_text)
              if '.py' in t or '...' in t or '*' in t]
    tokens += LINK.findall(readme_text)
    return [name_pattern(t) for t in tokens]


def method_folders():
    return sorted(d for d in glob.glob(osp.join(REPO, 'configs', '*'))
                  if osp.isdir(d) and not osp.basename(d).startswith('_'))


def test_name_pattern():
    assert name_pattern('mtcp-wo-cfm_...nyud...').fullmatch(
        'mtcp-wo-cfm_swin-s_100e_nyud-480x640.py')
    assert not name_pattern('mtcp-wo-cfm_...nyud...').fullmatch(
        'mtcp-wo-cfm-srm_swin-s_100e_nyud-480x640.py')
    pattern = name_pattern('compl-depth-{rot,moco}_r26.py')
    assert pattern.fullmatch('compl-depth-moco_r26.py')
    assert not pattern.fullmatch('compl-depth-densecl_r26.py')
    assert name_pattern('hps_a.py').fullmatch('configs/ccr/hps_a.py')
    # a config named inside a longer path is listed only with its folder
    assert not name_pattern('configs/ccr/hps_a.py').fullmatch('hps_a.py')


@pytest.mark.parametrize('folder', method_folders(),
                         ids=lambda d: osp.basename(d))
def test_every_config_is_listed_in_the_folder_readme(folder):
    readme = osp.join(folder, 'README.md')
    assert osp.isfile(readme), f'{folder} has no README.md'
    with open(readme, encoding='utf-8') as f:
        patterns = listed_patterns(f.read())
    here = osp.basename(folder)
    missing = []
    for path in sorted(glob.glob(osp.join(folder, '*.py'))):
        name = osp.basename(path)
        candidates = (name, f'configs/{here}/{name}', f'{here}/{name}')
        if not any(p.fullmatch(c) for p in patterns for c in candidates):
            missing.append(name)
    assert not missing, f'{osp.relpath(readme, REPO)} does not list {missing}'
