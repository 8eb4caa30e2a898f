"""tools/setup_env.sh: mmcv build plan (CPU / CUDA, arch, cache key) with a
fake torch and nvcc, progress lines, and setup.py's MMMTL_SKIP_PINS."""
import os
import os.path as osp
import stat
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'tools', 'setup_env.sh')


def _executable(path, text):
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)


def _plan(tmp_path, query, nvcc=True, **env_vars):
    """Run ``--print-plan`` with a fake venv python answering ``query``
    ("<torch> <cuda|none> <gpus> <caps|none>") and optionally a fake nvcc.
    """
    venv_bin = tmp_path / 'venv' / 'bin'
    venv_bin.mkdir(parents=True, exist_ok=True)
    _executable(str(venv_bin / 'python'),
                f'#!/bin/sh\ncat > /dev/null\necho "{query}"\n')
    tools = tmp_path / 'tools'
    tools.mkdir(exist_ok=True)
    if nvcc:
        _executable(str(tools / 'nvcc'), '#!/bin/sh\necho nvcc 13.0\n')
    elif (tools / 'nvcc').exists():
        (tools / 'nvcc').unlink()
    env = dict(PATH=f'{tools}:/usr/bin:/bin', HOME=str(tmp_path),
               MMMTL_VENV=str(tmp_path / 'venv'),
               MMMTL_CACHE=str(tmp_path / 'cache'))
    env.update(env_vars)
    return subprocess.run(['bash', SCRIPT, '--print-plan'], env=env,
                          capture_output=True, text=True, timeout=60)


def _ok(proc):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_script_parses():
    assert subprocess.run(['bash', '-n', SCRIPT]).returncode == 0


def test_cpu_plan_keeps_the_cpu_cache_key(tmp_path):
    cache = tmp_path / 'cache' / 'wheels'
    out = _ok(_plan(tmp_path, '2.14.1 13.0 0 none', nvcc=False))
    assert 'mmcv build: cpu (no nvcc' in out
    assert f'wheel cache: {cache}/torch-2.14.1\n' in out
    # nvcc but no GPU (this project's CPU machines): still the CPU build
    out = _ok(_plan(tmp_path, '2.14.1 13.0 0 none'))
    assert 'mmcv build: cpu (nvcc found but PyTorch sees no GPU' in out
    assert f'wheel cache: {cache}/torch-2.14.1\n' in out
    out = _ok(_plan(tmp_path, '2.14.1 none 0 none'))
    assert 'mmcv build: cpu (this torch has no CUDA support)' in out
    out = _ok(_plan(tmp_path, '2.14.1 13.0 1 9.0', MMMTL_CUDA='0'))
    assert 'mmcv build: cpu (MMMTL_CUDA=0)' in out


def test_cuda_plan_uses_the_visible_gpus(tmp_path):
    cache = tmp_path / 'cache' / 'wheels'
    out = _ok(_plan(tmp_path, '2.11.0 13.0 1 9.0'))
    assert 'mmcv build: cuda (nvcc at' in out
    assert 'TORCH_CUDA_ARCH_LIST: 9.0\n' in out
    assert f'wheel cache: {cache}/torch-2.11.0-cu130-sm90\n' in out
    out = _ok(_plan(tmp_path, '2.14.1 12.8 2 8.0,9.0'))
    assert 'TORCH_CUDA_ARCH_LIST: 8.0;9.0\n' in out
    assert f'{cache}/torch-2.14.1-cu128-sm80-90\n' in out
    # the user's list wins
    out = _ok(_plan(tmp_path, '2.14.1 13.0 1 9.0',
                    TORCH_CUDA_ARCH_LIST='8.0;9.0+PTX'))
    assert 'TORCH_CUDA_ARCH_LIST: 8.0;9.0+PTX\n' in out
    assert f'{cache}/torch-2.14.1-cu130-sm80-90ptx\n' in out


def test_forced_cuda_without_a_gpu(tmp_path):
    proc = _plan(tmp_path, '2.14.1 13.0 0 none', MMMTL_CUDA='1')
    assert proc.returncode != 0
    assert 'set TORCH_CUDA_ARCH_LIST' in proc.stderr
    out = _ok(_plan(tmp_path, '2.14.1 13.0 0 none', MMMTL_CUDA='1',
                    TORCH_CUDA_ARCH_LIST='9.0'))
    assert 'mmcv build: cuda' in out and '-cu130-sm90\n' in out
    proc = _plan(tmp_path, '2.14.1 13.0 0 none', MMMTL_CUDA='yes')
    assert proc.returncode != 0 and "MMMTL_CUDA must be auto, 0 or 1, got "\
        "'yes'" in proc.stderr


def test_progress_lines_during_a_long_step(tmp_path):
    build = tmp_path / 'build'
    build.mkdir()
    (build / 'a.o').write_text('')
    (build / 'b.o').write_text('')
    cmd = (f'source {SCRIPT}; MMMTL_PROGRESS_INTERVAL=1 run_with_progress '
           f'"step 3/5: compiling" {build} 4 sleep 2.5')
    proc = subprocess.run(['bash', '-c', cmd], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert '[setup_env] step 3/5: compiling: 0 min 01 s elapsed, 2/4 ' \
        'objects compiled' in lines
    assert lines[-1].startswith('[setup_env] step 3/5: compiling: finished '
                                'in 0 min 0')
    assert lines[-1].endswith('(exit status 0)')
    failing = subprocess.run(
        ['bash', '-c', f'source {SCRIPT}; run_with_progress x "" 0 false'],
        capture_output=True, text=True, timeout=60)
    assert failing.returncode != 0 and '(exit status 1)' in failing.stderr


@pytest.mark.parametrize('skip', ['', '1'])
def test_setup_py_pins_and_skip_pins(skip):
    """``MMMTL_SKIP_PINS=1 pip install -e .`` into an existing
    MMSegmentation environment: no version pins, no torch."""
    code = ('import setuptools  # noqa: F401  (provides distutils)\n'
            'import distutils.core\n'
            'd = distutils.core.run_setup("setup.py", stop_after="init")\n'
            'print("\\n".join(d.install_requires))\n')
    env = dict(os.environ, MMMTL_SKIP_PINS=skip)
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    reqs = proc.stdout.split()
    if skip:
        assert 'mmsegmentation' in reqs and 'mmengine' in reqs
        assert not [r for r in reqs if '=' in r or '<' in r or '>' in r]
        assert not [r for r in reqs if r in ('torch', 'torchvision')]
    else:
        assert 'mmsegmentation==1.2.2' in reqs and 'torch==2.14.1' in reqs


def test_build_mmcv_wheel_flow(tmp_path):
    """build_mmcv_wheel with a stand-in pip: the source gets the C++20
    patch, the build runs with the CUDA settings of the plan and progress
    lines, and the wheel lands in the plan's cache folder."""
    src = tmp_path / 'sdist' / 'mmcv-2.1.0'
    for sub in ('pytorch', 'pytorch/cpu', 'pytorch/cuda'):
        (src / 'mmcv/ops/csrc' / sub).mkdir(parents=True)
    for name in ('a.cpp', 'b.cpp', 'cpu/c.cpp', 'cuda/d.cu'):
        (src / 'mmcv/ops/csrc/pytorch' / name).write_text('')
    (src / 'setup.py').write_text("flags = ['-std=c++14', '-std=c++17']\n")
    subprocess.run(['tar', '-czf', str(tmp_path / 'mmcv-2.1.0.tar.gz'),
                    '-C', str(tmp_path / 'sdist'), 'mmcv-2.1.0'], check=True)
    log = tmp_path / 'pip.log'
    _executable(str(tmp_path / 'fake_pip'), f'''#!/bin/bash
echo "$@ FORCE_CUDA=$FORCE_CUDA ARCH=$TORCH_CUDA_ARCH_LIST" >> {log}
if [[ "$1" == download ]]; then cp {tmp_path}/mmcv-2.1.0.tar.gz "${{@: -1}}"; fi
if [[ "$1" == wheel ]]; then
    src="${{@: -1}}"; grep -q 'c++20' "$src/setup.py" || exit 3
    mkdir -p "$src/build/t"; touch "$src/build/t/a.o" "$src/build/t/b.o"
    sleep 2.5
    while [[ "$1" != -w ]]; do shift; done
    mkdir -p "$2"; touch "$2/mmcv-2.1.0-cp311-cp311-linux_x86_64.whl"
fi
''')
    cmd = (f'source {SCRIPT}; PIP=({tmp_path}/fake_pip); BUILD=cuda; '
           f'ARCHS="9.0"; TORCH=2.14.1; WHEEL_DIR={tmp_path}/cache/w; '
           'MMMTL_PROGRESS_INTERVAL=1 build_mmcv_wheel')
    proc = subprocess.run(['bash', '-c', cmd], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / 'cache' / 'w' /
            'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl').exists()
    assert 'with CPU and CUDA ops (arch 9.0)' in proc.stderr
    # 2 pytorch/*.cpp + 1 cpu/*.cpp + 1 cuda/*.cu sources
    assert 'elapsed, 2/4 objects compiled' in proc.stderr
    calls = log.read_text().splitlines()
    assert calls[1].startswith('wheel ') and \
        calls[1].endswith('FORCE_CUDA=1 ARCH=9.0')
