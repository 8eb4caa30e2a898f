"""tools/dist_*.sh and tools/slurm_*.sh find their Python interpreter:
$PYTHON, else the activated environment, else the repository's .venv, else
python3 -- never a bare `python` that may lack torch."""
import os
import os.path as osp
import shutil
import stat
import subprocess

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPTS = ('dist_train.sh', 'dist_test.sh', 'slurm_train.sh',
           'slurm_test.sh', 'python_env.sh')


def fake_python(path: str, name: str) -> str:
    """An executable that prints its name and arguments, one per line."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(f'#!/bin/sh\necho "{name}"\nfor a in "$@"; do echo "$a"; '
                'done\n')
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def repo_copy(tmp_path):
    """The shell scripts in a tools/ folder of an empty repository."""
    os.makedirs(tmp_path / 'tools')
    for name in SCRIPTS:
        shutil.copy(osp.join(REPO, 'tools', name), tmp_path / 'tools' / name)
    return tmp_path


def run(repo, args, **env_updates):
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHON', 'VIRTUAL_ENV', 'CONDA_PREFIX')}
    # python3 on the PATH is a fake too, so nothing real runs.
    bin_dir = repo / 'path_bin'
    fake_python(str(bin_dir / 'python3'), 'path-python3')
    env['PATH'] = f'{bin_dir}{os.pathsep}{env["PATH"]}'
    env.update(env_updates)
    proc = subprocess.run(['bash'] + args, cwd=repo, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split('\n')


def test_dist_test_order_of_interpreters(repo_copy, tmp_path):
    args = ['tools/dist_test.sh', 'cfg.py', 'ckpt.pth', '2', '--out', 'a b']
    # 4. nothing else: python3 on the PATH.
    out = run(repo_copy, args)
    assert out[0] == 'path-python3'
    assert out[1:4] == ['-m', 'torch.distributed.run', '--nnodes=1']
    assert out[out.index('--nproc_per_node=2')] == '--nproc_per_node=2'
    tail = out[out.index('--master_port=29500') + 1:]
    assert tail[:7] == [f'{osp.dirname(args[0])}/test.py', 'cfg.py',
                        'ckpt.pth', '--launcher', 'pytorch', '--out', 'a b']
    # 3. the repository's .venv
    fake_python(str(repo_copy / '.venv' / 'bin' / 'python'), 'repo-venv')
    assert run(repo_copy, args)[0] == 'repo-venv'
    # 2. the activated environment wins over the repository's .venv
    venv = tmp_path / 'active'
    fake_python(str(venv / 'bin' / 'python'), 'active-venv')
    assert run(repo_copy, args, VIRTUAL_ENV=str(venv))[0] == 'active-venv'
    assert run(repo_copy, args, CONDA_PREFIX=str(venv))[0] == 'active-venv'
    # 1. $PYTHON wins over everything
    chosen = fake_python(str(tmp_path / 'chosen' / 'py'), 'chosen')
    assert run(repo_copy, args, PYTHON=chosen,
               VIRTUAL_ENV=str(venv))[0] == 'chosen'


def test_dist_train_passes_arguments(repo_copy):
    fake_python(str(repo_copy / '.venv' / 'bin' / 'python'), 'repo-venv')
    out = run(repo_copy, ['tools/dist_train.sh', 'cfg.py', '1',
                          '--cfg-options', "custom_hooks=[dict(type='A B')]"],
              PORT='29511', NNODES='2', NODE_RANK='1')
    assert out[0] == 'repo-venv'
    assert '--nnodes=2' in out and '--node_rank=1' in out
    assert '--master_port=29511' in out
    i = out.index('cfg.py')
    assert out[i - 1].endswith('tools/train.py')
    assert out[i + 1:i + 5] == ['--launcher', 'pytorch', '--cfg-options',
                                "custom_hooks=[dict(type='A B')]"]


def test_slurm_scripts_use_the_same_interpreter(repo_copy):
    # srun is a fake that runs its command after the srun options.
    bin_dir = repo_copy / 'path_bin'
    os.makedirs(bin_dir, exist_ok=True)
    srun = bin_dir / 'srun'
    srun.write_text('#!/bin/bash\nwhile [ $# -gt 0 ]; do case "$1" in\n'
                    '-p) shift 2;; -*) shift;; *) break;; esac; done\n'
                    'exec "$@"\n')
    os.chmod(srun, 0o755)
    fake_python(str(repo_copy / '.venv' / 'bin' / 'python'), 'repo-venv')
    out = run(repo_copy, ['tools/slurm_train.sh', 'part', 'job', 'cfg.py'])
    assert out[0] == 'repo-venv' and out[1] == '-u'
    assert out[2] == str(repo_copy / 'tools' / 'train.py')
    out = run(repo_copy, ['tools/slurm_test.sh', 'part', 'job', 'cfg.py',
                          'ckpt.pth'])
    assert out[0] == 'repo-venv' and out[2].endswith('tools/test.py')
