"""Docs as tests: every shell command shown in README.md and docs/en/**/*.md.

Each fenced ``bash``/``shell``/``sh``/``console`` block is a test. A block
marked ``<!-- docs-test: skip (REASON) -->`` (needs real data, a GPU, a
cluster, a long run) is reported as skipped with its reason; every other
block runs, as one ``bash -e`` script, in a sandbox that looks like a
checkout after ``make demo``:

* the repository's files (symlinked), ``.venv/bin/python`` (and ``python``
  on the PATH) running the interpreter of this test session;
* a tiny synthetic dataset in ``data/synthetic`` and the work dir of a
  2-iteration ``make demo`` in ``work_dirs/demo``, both made once per module
  by the demo's own script, plus a 2-iteration run with validation.

What the test changes in a documented command is written down here: the
global replacements and placeholders below, ``SHRINK`` (appended as
``--cfg-options`` to every command that trains or tests, so it trains
for 2 iterations of batch 2) and the per-block ``CASES``. Usage lines
(``tools/train.py CONFIG [--work-dir DIR] ...``) run without their optional
``[...]`` parts, with the placeholders filled in.

A block fails when a command exits non-zero or an output the block names
(``--out``, ``--out-dir``, ``--output-dir``, ``--work-dir``,
``--save-path`` or the case's ``expect``) does not appear; a new unmarked
block that cannot run as written fails too: fix it, add a case, or mark it.
"""
import glob
import os
import os.path as osp
import re
import shutil
import socket
import subprocess
import sys
import time
from typing import Dict, List, NamedTuple, Sequence, Tuple

import pytest
from doc_blocks import all_blocks, parse_blocks, MarkerError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = 'configs/hps/hps_resnet18_500it_synthetic-128x160.py'
TIMEOUT = 600

# Appended as --cfg-options to each command that trains or tests: 2
# iterations of batch 2 with a validation and a checkpoint at iteration 2, a
# tiny generated dataset (4 + 2 images) where the demo generates one, no
# dataloader worker processes.
SHRINK = [
    'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
    'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
    'train_dataloader.dataset.generator_cfg.num_train=4',
    'train_dataloader.dataset.generator_cfg.num_val=2',
    'train_dataloader.dataset.generator_cfg.num_workers=1',
] + [
    f'{split}_dataloader.{key}'
    for split in ('train', 'val', 'test')
    for key in ('batch_size=2', 'num_workers=0', 'persistent_workers=False')
]
SHRUNK_COMMANDS = ('tools/train.py', 'tools/dist_train.sh',
                   'tools/misc/run_demo.py', 'tools/test.py',
                   'tools/dist_test.sh')

# Documented text -> what runs, in every block (the shrunk runs save
# iter_2.pth; `<config>` work dirs are the demo's).
REPLACE = [('iter_500.pth', 'iter_2.pth'), ('iter_2000.pth', 'iter_2.pth'),
           ('work_dirs/<config>', 'work_dirs/demo')]
# Placeholders of usage lines.
PLACEHOLDERS = {
    'CONFIG': DEMO_CONFIG,
    'CHECKPOINT': 'work_dirs/demo/iter_2.pth',
    'IMG_OR_DIR': 'data/synthetic/images',
    'NUM_PROCESSES': '1',
}
PLACEHOLDER = re.compile(r'\b(' + '|'.join(PLACEHOLDERS) + r')\b')
OUTPUT_OPTION = re.compile(
    r'--(?:out|out-dir|output-dir|work-dir|save-path)[ =]([^\s;|&]+)')


class Case(NamedTuple):
    """What a block needs beyond the defaults.

    Args:
        replace: (documented, run) text pairs, applied before REPLACE.
        fresh: sandbox paths removed before the block runs (outputs the
            block must create itself).
        links: sandbox path -> work dir of the module's runs.
        expect: globs (sandbox-relative) that must exist after the block.
        output_has: texts the block's output must contain.
    """
    replace: Sequence[Tuple[str, str]] = ()
    fresh: Sequence[str] = ()
    links: Dict[str, str] = {}
    expect: Sequence[str] = ()
    output_has: Sequence[str] = ()


RUN_DIR = 'work_dirs/hps_resnet18_500it_synthetic-128x160'
# Keyed by a text the block contains.
CASES = {
    'tools/misc/generate_synthetic.py --out data/synthetic': Case(
        replace=[('--num-train 1000 --num-val 200',
                  '--num-train 4 --num-val 2 --workers 1')],
        fresh=['data/synthetic'],
        expect=['data/synthetic/meta.json', 'data/synthetic/splits/val.txt',
                'data/synthetic/images/*.png']),
    'browse_dataset.py configs/hps': Case(
        expect=['work_dirs/browse/*.png']),
    '--keys loss \'*.unweighted\' --out work_dirs/demo/losses.png': Case(
        # get_started.md's list of keys
        output_has=['semseg.loss_ce', 'weight.depth', 'semseg.unweighted']),
    'work_dirs/run_a work_dirs/run_b': Case(
        links={'work_dirs/run_a': 'val_run', 'work_dirs/run_b': 'val_run'},
        expect=['delta_m.png', 'losses.png', 'work_dirs/preds/semseg/*.png',
                'work_dirs/preds/depth/*.npy',
                'work_dirs/cm/confusion_matrix_semseg.npy'],
        output_has=['images/s']),
    '.venv/bin/python tools/train.py CONFIG [--work-dir DIR]': Case(
        # train_test.md: what a work dir receives
        expect=[f'{RUN_DIR}/iter_2.pth', f'{RUN_DIR}/last_checkpoint',
                f'{RUN_DIR}/*/*.log', f'{RUN_DIR}/*/vis_data/scalars.json']),
    'tools/infer.py $IMG': Case(
        # the table of get_started.md
        expect=['outputs/semseg/*.png', 'outputs/depth/*.png',
                'outputs/depth/*.npy', 'outputs/normals/*.png',
                'outputs/edge/*.png', 'outputs/saliency/*.png',
                'outputs/panels/*.png']),
    'bash tools/dist_train.sh configs/hps/hps_resnet18_2k': Case(
        # one process instead of 4 (two gloo processes: tests/
        # test_utils/test_distributed.py)
        replace=[('.py 4\n', '.py 1\n'), ('.pth 4', '.pth 1')],
        expect=['work_dirs/hps_resnet18_2k_synthetic-128x160/iter_2.pth']),
    'from mmmtl.utils import collect_env': Case(
        output_has=['MMSegmentation: ', 'PyTorch: ']),
    'get_flops.py': Case(output_has=['FLOPs']),
}


def runnable(text: str) -> str:
    """The script the test runs for a block's documented commands."""
    for key, case in CASES.items():
        if key in text:
            for old, new in case.replace:
                assert old in text, f'case {key!r}: {old!r} not in block'
                text = text.replace(old, new)
    for old, new in REPLACE:
        text = text.replace(old, new)
    usage = bool(PLACEHOLDER.search(text))
    lines = []
    for line in text.replace('\\\n', ' ').split('\n'):
        line = re.sub(r'(^|\s)#.*$', '', line).rstrip()
        if usage:
            previous = None
            while previous != line:  # innermost optional groups first
                previous = line
                line = re.sub(r'\s*\[[^\[\]]*\]', '', line)
            line = PLACEHOLDER.sub(lambda m: PLACEHOLDERS[m.group(1)], line)
        if any(tool in line for tool in SHRUNK_COMMANDS):
            line += ' --cfg-options ' + ' '.join(SHRINK)
        if line.strip():
            lines.append(line)
    return '\n'.join(lines)


def case_of(text: str) -> Case:
    found = [case for key, case in CASES.items() if key in text]
    assert len(found) <= 1, 'a block matches several CASES'
    return found[0] if found else Case()


# --------------------------------------------------------------------- #
# Sandbox
# --------------------------------------------------------------------- #
def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_sandbox(root: str, base: str = None) -> str:
    """A folder that looks like the repository after `make env`."""
    os.makedirs(root)
    for name in os.listdir(REPO):
        if name in ('.git', '.venv', 'data', 'work_dirs', 'outputs'):
            continue
        os.symlink(osp.join(REPO, name), osp.join(root, name))
    bin_dir = osp.join(root, '.venv', 'bin')
    os.makedirs(bin_dir)
    for exe in ('python', 'python3'):
        path = osp.join(bin_dir, exe)
        with open(path, 'w') as f:
            f.write(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        os.chmod(path, 0o755)
    if base is not None:
        for sub in ('data', 'work_dirs'):
            if osp.isdir(osp.join(base, sub)):
                # hard links: cheap, and the base stays untouched
                shutil.copytree(osp.join(base, sub), osp.join(root, sub),
                                copy_function=os.link)
    return root


def run_script(sandbox: str, script: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != 'PYTHON'}
    env['PATH'] = f'{osp.join(sandbox, ".venv", "bin")}{os.pathsep}' \
        f'{env.get("PATH", "")}'
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (REPO, env.get('PYTHONPATH')) if p)
    env['MPLBACKEND'] = 'Agg'
    env['PORT'] = str(free_port())
    return subprocess.run(['bash', '-e', '-o', 'pipefail', '-c', script],
                          cwd=sandbox, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)


def check_ran(proc: subprocess.CompletedProcess, script: str) -> str:
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, \
        f'exit {proc.returncode} of\n{script}\n---\n{output[-4000:]}'
    return output


@pytest.fixture(scope='module')
def base(tmp_path_factory) -> str:
    """Sandbox after a 2-iteration `make demo` (the demo script generates
    the tiny dataset itself) and a 2-iteration run with validation."""
    root = make_sandbox(str(tmp_path_factory.mktemp('docs') / 'base'))
    demo = runnable('.venv/bin/python tools/misc/run_demo.py')
    proc = run_script(root, demo)
    output = check_ran(proc, demo)
    train = runnable(f'.venv/bin/python tools/train.py {DEMO_CONFIG} '
                     '--work-dir work_dirs/val_run')
    check_ran(run_script(root, train), train)
    return root, proc.stdout, output


def newest_mtime(path: str) -> float:
    if osp.isdir(path):
        times = [osp.getmtime(osp.join(d, f)) for d, _, fs in os.walk(path)
                 for f in fs]
        return max(times, default=osp.getmtime(path))
    return osp.getmtime(path)


# --------------------------------------------------------------------- #
# The documented blocks
# --------------------------------------------------------------------- #
BLOCKS = all_blocks(REPO)


@pytest.mark.parametrize('block', BLOCKS,
                         ids=[f'{b.path}:{b.line}' for b in BLOCKS])
def test_documented_block(block, base, tmp_path):
    if block.skip_reason is not None:
        pytest.skip(f'not run: {block.skip_reason}')
    case = case_of(block.commands)
    sandbox = make_sandbox(str(tmp_path / 'sandbox'), base[0])
    for path in case.fresh:
        shutil.rmtree(osp.join(sandbox, path), ignore_errors=True)
    for path, run in case.links.items():
        os.makedirs(osp.dirname(osp.join(sandbox, path)), exist_ok=True)
        os.symlink(osp.join(sandbox, 'work_dirs', run),
                   osp.join(sandbox, path))
    script = runnable(block.commands)
    start = time.time() - 1.0
    output = check_ran(run_script(sandbox, script), script)
    outputs = OUTPUT_OPTION.findall(script) + list(case.expect)
    for pattern in outputs:
        found = glob.glob(osp.join(sandbox, pattern))
        assert found, f'{block.path}:{block.line}: {pattern} not written\n' \
            f'{script}\n---\n{output[-3000:]}'
        assert max(newest_mtime(p) for p in found) >= start, \
            f'{pattern} existed before and was not written again'
    for text in case.output_has:
        assert text in output, f'{text!r} not in the output of\n{script}'


# --------------------------------------------------------------------- #
# make demo: its output and what get_started.md says it writes
# --------------------------------------------------------------------- #
def test_demo_console_is_short_and_complete(base):
    root, stdout, _ = base
    lines = stdout.split('\n')  # a bar redrawn with '\r' is one line
    assert lines[0].startswith('mmmtl demo:')
    assert 'generate the synthetic dataset into data/synthetic/' in stdout
    assert 'expected time is measured on this machine' in stdout
    assert any(line.startswith('train [') and '2/2 it' in line
               for line in lines)
    # the config and hook dumps stay in the log file
    assert 'Config:' not in stdout and 'Hooks will be executed' not in stdout
    logs = glob.glob(osp.join(root, 'work_dirs/demo/*/*.log'))
    assert len(logs) == 1
    with open(logs[0]) as f:
        log = f.read()
    assert 'Config:' in log
    assert 'trivial predictor (majority class' in log
    # the table, both columns labelled, and where to go next
    header = next(line for line in lines if line.startswith('metric'))
    assert 'trained model' in header and 'trivial predictor' in header
    assert any(line.startswith('semseg/mIoU') for line in lines)
    assert 'work_dirs/demo/panels/' in stdout
    assert 'Next, try' in stdout and 'tools/infer.py' in stdout
    assert 'semseg per-class IoU' not in stdout
    assert 'FileClient' not in stdout
    # besides the progress bars (one line each on a terminal), a screen
    text = [line for line in lines
            if not line.startswith(('[', '\r[', 'train ['))]
    assert len(text) < 50, stdout


def documented_paths(markdown: str, prefix: str) -> List[str]:
    """Backticked paths in the first cell of markdown table rows."""
    paths = []
    for line in markdown.splitlines():
        if not line.startswith('|'):
            continue
        first = line.split('|')[1]
        paths += [p for p in re.findall(r'`([^`]+)`', first)
                  if p.startswith(prefix)]
    return paths


def test_demo_writes_what_get_started_promises(base):
    root = base[0]
    with open(osp.join(REPO, 'docs', 'en', 'get_started.md')) as f:
        promised = documented_paths(f.read(), 'work_dirs/demo/')
    assert len(promised) >= 4
    for path in promised:
        pattern = re.sub(r'<[^>]+>', '*', path).replace('iter_500', 'iter_2')
        assert glob.glob(osp.join(root, pattern)), path


# --------------------------------------------------------------------- #
# The harness itself
# --------------------------------------------------------------------- #
def test_parse_blocks_markers_and_console():
    text = '\n'.join([
        'text', '```bash', 'echo a', '```',
        '<!-- docs-test: skip (needs a GPU) -->', '```shell', 'nvidia-smi',
        '```', '```python', 'print(1)', '```',
        '```console', '$ echo b \\', '  c', 'b c', '```'])
    blocks = parse_blocks(text)
    assert [(b.lang, b.skip_reason) for b in blocks] == [
        ('bash', None), ('shell', 'needs a GPU'), ('console', None)]
    assert blocks[2].commands == 'echo b \\\n  c'
    for bad in ('<!-- docs-test: skip -->', '<!-- docs-test: skip () -->',
                '<!-- docs-test: run -->'):
        with pytest.raises(MarkerError, match='reason'):
            parse_blocks(f'{bad}\n```bash\necho\n```')
    with pytest.raises(MarkerError, match='not directly above'):
        parse_blocks('<!-- docs-test: skip (x) -->\n\n```bash\necho\n```')


def test_runnable_shrinks_usage_lines():
    script = runnable('.venv/bin/python tools/train.py CONFIG [--work-dir '
                      'DIR] [--resume [CKPT]] \\\n    [--cfg-options k=v '
                      '...]   # comment')
    assert script.startswith(f'.venv/bin/python tools/train.py '
                             f'{DEMO_CONFIG} --cfg-options '
                             'train_cfg.max_iters=2 ')
    assert '[' not in script and '#' not in script
    assert runnable('cp a/iter_500.pth b  # x') == 'cp a/iter_2.pth b'


def test_every_block_is_run_or_skipped_with_a_reason():
    assert len(BLOCKS) >= 20
    for block in BLOCKS:
        assert block.skip_reason is None or block.skip_reason.strip()
    # the harness runs most of what the docs show
    assert sum(b.skip_reason is None for b in BLOCKS) >= 12
