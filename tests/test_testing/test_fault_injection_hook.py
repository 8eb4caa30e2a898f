"""FaultInjectionHook (test-only): registered by mmmtl.testing only;
arguments are checked."""
import subprocess
import sys

import pytest

from mmmtl.testing import FaultInjectionHook
from training_helpers import REPO, child_env


def test_fault_injection_rejects_unknown_signal():
    with pytest.raises(ValueError, match='SIGNOPE'):
        FaultInjectionHook(kill_at_iter=1, kill_signal='SIGNOPE')


def test_registered_only_by_mmmtl_testing():
    """``import mmmtl`` (what every config does) leaves the test-only hook
    out of the registry; importing mmmtl.testing registers it."""
    code = (
        'import sys\n'
        'import mmmtl\n'
        'from mmseg.registry import HOOKS\n'
        "assert 'mmmtl.testing' not in sys.modules\n"
        "assert HOOKS.get('FaultInjectionHook') is None\n"
        'import mmmtl.testing\n'
        "assert HOOKS.get('FaultInjectionHook') is "
        'mmmtl.testing.FaultInjectionHook\n')
    result = subprocess.run([sys.executable, '-c', code], cwd=REPO,
                            env=child_env(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
