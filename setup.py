"""Installation script of mmmtl (``pip install -e .``)."""
import os.path as osp

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


setup(
    name='mmmtl',
    version=read_version(),
    description='Multi-task dense prediction for MMSegmentation',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    include_package_data=True,
    python_requires='>=3.10',
    install_requires=read_requirements('torch') + read_requirements('runtime'),
    extras_require=dict(
        tests=read_requirements('tests'),
        optional=read_requirements('optional')),
    license='Apache License 2.0',
    zip_safe=False,
)
