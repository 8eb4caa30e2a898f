"""Relative links in the README, docs/ and configs/*/README.md resolve."""
import glob
import os.path as osp
import re

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# [text](target "title") and ![alt](target); reference definitions
# "[id]: target".
INLINE = re.compile(r'!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
REFERENCE = re.compile(r'^\s*\[[^\]]+\]:\s*(\S+)', re.MULTILINE)
FENCE = re.compile(r'^(```|~~~).*?^\1', re.MULTILINE | re.DOTALL)
CODE = re.compile(r'`[^`\n]*`')


def markdown_files():
    files = [osp.join(REPO, 'README.md')]
    files += glob.glob(osp.join(REPO, 'docs', '**', '*.md'), recursive=True)
    files += glob.glob(osp.join(REPO, 'configs', '*', 'README.md'))
    return sorted(f for f in files if osp.isfile(f))


def relative_links(text: str):
    """Link targets outside code blocks that are not URLs or anchors."""
    text = CODE.sub('', FENCE.sub('', text))
    for target in INLINE.findall(text) + REFERENCE.findall(text):
        if re.match(r'^[a-z][a-z0-9+.-]*:', target, re.IGNORECASE) or \
                target.startswith('#'):
            continue
        yield target


def test_link_extraction():
    text = ('See [a](docs/a.md#x) and ![img](../b.png "t"), '
            '[web](https://x.org), [top](#head), `[no](c.md)`\n'
            '```\n[no](d.md)\n```\n[ref]: e/f.md\n')
    assert list(relative_links(text)) == ['docs/a.md#x', '../b.png',
                                          'e/f.md']


@pytest.mark.parametrize('path', markdown_files(),
                         ids=lambda p: osp.relpath(p, REPO))
def test_relative_links_resolve(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    broken = []
    for target in relative_links(text):
        file_part = target.split('#', 1)[0].split('?', 1)[0]
        if not file_part:
            continue
        resolved = osp.normpath(osp.join(osp.dirname(path), file_part))
        if not osp.exists(resolved):
            broken.append(target)
    assert not broken, f'{osp.relpath(path, REPO)} links to missing ' \
        f'files: {broken}'


def test_docs_exist():
    # The README and the docs index the user guides; at least these exist.
    for name in ('get_started.md', 'model_zoo.md'):
        assert osp.isfile(osp.join(REPO, 'docs', 'en', name)), name


def test_model_zoo_is_up_to_date():
    """docs/en/model_zoo.md and model-index.yml list every config folder."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'gather_models', osp.join(REPO, '.dev_scripts', 'gather_models.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(['--check']) == 0, \
        'run: python .dev_scripts/gather_models.py'
    with open(osp.join(REPO, 'docs', 'en', 'model_zoo.md')) as f:
        zoo = f.read()
    for config in glob.glob(osp.join(REPO, 'configs', '[!_]*', '*.py')):
        assert osp.basename(config) in zoo, config
