"""Installation script of mmmtl (``pip install -e .``).

``MMMTL_SKIP_PINS=1 pip install -e .`` installs into an existing
MMSegmentation environment without our exact pins: requirements keep their
names only (what is missing gets installed, what is there stays), and torch /
torchvision are left to the environment. ``pip install --no-deps -e .``
installs nothing else at all.
"""
import os
import os.path as osp
import re

from setuptools import find_packages, setup


def read_version() -> str:
    """Read ``__version__`` from ``mmmtl/version.py`` without importing it."""
    scope: dict = {}
    with open(osp.join(osp.dirname(__file__), 'mmmtl', 'version.py')) as f:
        exec(compile(f.read(), 'mmmtl/version.py', 'exec'), scope)
    return scope['__version__']


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt``, comments dropped."""
    path = osp.join(osp.dirname(__file__), 'requirements', name + '.txt')
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def install_requires() -> list:
    """Pinned requirements, or bare names with ``MMMTL_SKIP_PINS=1``."""
    if os.environ.get('MMMTL_SKIP_PINS', '') not in ('', '0'):
        return [
            re.split(r'[<>=!~;\[ ]', req, maxsplit=1)[0]
            for req in read_requirements('runtime')
        ]
    return read_requirements('torch') + read_requirements('runtime')


setup(
    name='mmmtl',
    version=read_version(),
    description='Multi-task dense prediction for MMSegmentation',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    include_package_data=True,
    python_requires='>=3.10',
    install_requires=install_requires(),
    extras_require=dict(
        tests=read_requirements('tests'),
        optional=read_requirements('optional')),
    license='Apache License 2.0',
    zip_safe=False,
)
