"""ProgressBarHook draws one bar step per test batch."""
from types import SimpleNamespace

from mmmtl.engine.hooks.progress_bar_hook import ProgressBarHook


def run_loop(hook, kind: str, batches: int) -> None:
    runner = SimpleNamespace(test_dataloader=[0] * batches,
                             val_dataloader=[0] * batches)
    getattr(hook, f'before_{kind}_epoch')(runner)
    for i in range(batches):
        getattr(hook, f'after_{kind}_iter')(runner, i, None, None)
    getattr(hook, f'after_{kind}_epoch')(runner)


def test_progress_bar_counts_batches(capsys):
    hook = ProgressBarHook()
    run_loop(hook, 'test', 3)
    text = capsys.readouterr().out
    assert '0/3' in text and '3/3' in text and '4/3' not in text
    assert text.endswith('\n')
    # Validation draws nothing unless asked to.
    run_loop(hook, 'val', 2)
    assert capsys.readouterr().out == ''
    run_loop(ProgressBarHook(val=True), 'val', 2)
    assert '2/2' in capsys.readouterr().out
