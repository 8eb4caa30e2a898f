"""Relative links in every markdown file resolve inside the repository."""
import glob
import os
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


# Folders that are not part of the repository's content: version control,
# the virtual environment, generated data, outputs and build artefacts.
NOT_CONTENT = {'.git', '.venv', 'data', 'work_dirs', 'build', 'dist',
               '__pycache__', '.pytest_cache', 'checkpoints', 'node_modules'}


def repository_files(suffixes):
    """Files below the repository root whose name ends with ``suffixes``."""
    files = []
    for root, dirs, names in os.walk(REPO):
        dirs[:] = [
            d for d in dirs
            if d not in NOT_CONTENT and not d.endswith('.egg-info')
        ]
        files += [osp.join(root, n) for n in names if n.endswith(suffixes)]
    return sorted(files)


def markdown_files():
    return repository_files(('.md', ))


def link_problem(path: str, target: str):
    """Why ``target`` (linked from markdown file ``path``) is broken, or None.

    A link must be relative, resolve to an existing file or folder, and stay
    inside the repository: a user's clone has nothing beside it.
    """
    file_part = target.split('#', 1)[0].split('?', 1)[0]
    if not file_part:
        return None
    if osp.isabs(file_part):
        return 'absolute path'
    resolved = osp.normpath(osp.join(osp.dirname(path), file_part))
    if osp.commonpath([REPO, resolved]) != REPO:
        return 'outside the repository'
    if not osp.exists(resolved):
        return 'missing'
    return None


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
    broken = [(target, link_problem(path, target))
              for target in relative_links(text)
              if link_problem(path, target)]
    assert not broken, f'{osp.relpath(path, REPO)} has broken links ' \
        f'(target, problem): {broken}'


def test_link_problem():
    readme = osp.join(REPO, 'README.md')
    assert link_problem(readme, 'docs/en/model_zoo.md#ctal') is None
    assert link_problem(readme, '#top') is None
    assert link_problem(readme, 'docs/en/no_such_page.md') == 'missing'
    # Outside the repository even where the file exists (the parent folder
    # of any clone exists).
    assert link_problem(readme, '..') == 'outside the repository'
    nested = osp.join(REPO, 'configs', 'ctal', 'README.md')
    assert link_problem(nested, '../../README.md') is None
    assert link_problem(nested, '../../../x/paper.txt') == \
        'outside the repository'
    assert link_problem(readme, '/etc/hostname') == 'absolute path'


def test_markdown_files_cover_the_repository():
    files = {osp.relpath(f, REPO) for f in markdown_files()}
    assert {'README.md', osp.join('configs', 'ctal', 'README.md'),
            osp.join('docs', 'en', 'user_guides', 'metrics.md')} <= files
    assert not any(f.startswith(('.git' + os.sep, '.venv' + os.sep))
                   for f in files)


def test_no_file_points_outside_the_repository():
    """No text file names the workspace folder beside the repository."""
    # Built from parts so that this file does not match itself.
    needles = ('..' + '/shared/', '/work' + '/shared')
    offenders = []
    for path in repository_files(('.md', '.py', '.txt', '.yml', '.yaml',
                                  '.sh', '.cfg', '.toml', 'Makefile')):
        with open(path, encoding='utf-8', errors='replace') as f:
            text = f.read()
        if any(needle in text for needle in needles):
            offenders.append(osp.relpath(path, REPO))
    assert not offenders, f'these files point outside the repository: ' \
        f'{offenders}'


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


def test_metafile_problems_names_missing_and_stray_entries(tmp_path):
    """gather_models flags a folder without metafile, a config the metafile
    omits and an entry without a config file, naming each."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'gather_models', osp.join(REPO, '.dev_scripts', 'gather_models.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    good, missing, partial = (tmp_path / n for n in ('good', 'none', 'part'))
    for folder in (good, missing, partial):
        folder.mkdir()
        (folder / 'a_cfg.py').write_text('')
        (folder / 'b_cfg.py').write_text('')
    (good / 'metafile.yml').write_text(
        'Models:\n- Config: configs/good/a_cfg.py\n'
        '- Config: configs/good/b_cfg.py\n')
    (partial / 'metafile.yml').write_text(
        'Models:\n- Config: configs/part/a_cfg.py\n'
        '- Config: configs/part/gone.py\n')
    assert module.metafile_problems([str(good)]) == []
    problems = module.metafile_problems([str(missing), str(partial)])
    assert problems == [
        'configs/none/metafile.yml is missing (expected an entry for each '
        'of its 2 configs)',
        'configs/part/metafile.yml: no entry for b_cfg.py',
        "configs/part/metafile.yml: entry 'gone.py' is not a config file of "
        'the folder',
    ]
