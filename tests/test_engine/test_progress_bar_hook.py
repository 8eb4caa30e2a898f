"""ProgressBarHook: one bar step per test batch; a training bar with a
steady speed and time-left estimate."""
from types import SimpleNamespace

import pytest

from mmmtl.engine.hooks.progress_bar_hook import (IterationRate,
                                                  ProgressBarHook,
                                                  format_duration)


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


class FakeClock:
    """Seconds that advance only when told to."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def run_training(hook, durations, max_iters=None):
    """Scripted training: iteration i takes ``durations[i]`` seconds."""
    clock = FakeClock()
    hook.clock = clock
    runner = SimpleNamespace(iter=0, max_iters=max_iters or len(durations))
    hook.before_train(runner)
    lines = []
    for i, seconds in enumerate(durations):
        clock.now += seconds
        runner.iter = i
        hook.after_train_iter(runner, i, None, None)
        lines.append(hook.train_line(i + 1, clock.now))
        runner.iter = i + 1
    hook.after_train(runner)
    return lines


def test_format_duration():
    assert format_duration(42.4) == '42 s'
    assert format_duration(525) == '8 min 50 s'  # 10 s steps above 2 min
    assert format_duration(3900) == '1 h 05 min'
    assert format_duration(-3) == '0 s'


def test_iteration_rate_skips_start_and_slides():
    rate = IterationRate(skip=2, window=3)
    assert rate.rate() is None
    now = 0.0
    for seconds in (50.0, 1.0, 1.0):  # a slow first iteration: skipped
        now += seconds
        rate.update(now)
    assert rate.measured == 1 and rate.rate() == pytest.approx(1.0)
    for seconds in (2.0, 2.0, 2.0):  # the window forgets the old speed
        now += seconds
        rate.update(now)
    assert rate.measured == 3 and rate.rate() == pytest.approx(0.5)
    with pytest.raises(ValueError, match='window'):
        IterationRate(window=0)


def test_train_bar_speed_estimate_and_steady_eta(capsys):
    hook = ProgressBarHook(train=True, estimate_after=10, window=20)
    # A 30 s first iteration (workers starting), then 2 s per iteration
    # with +-50 % jitter, as on a shared machine.
    durations = [30.0] + [1.0, 3.0] * 49 + [2.0]
    lines = run_training(hook, durations)
    out = capsys.readouterr().out
    # The expected time, printed once from the first measured iterations:
    # 10 iterations of mean 2 s, 100 iterations -> 200 s.
    assert out.count('Speed on this machine') == 1
    assert '0.50 iterations/s' in out and 'about 3 min 20 s' in out
    # Not a terminal: one line per 10 %, the last one complete.
    bars = [line for line in out.splitlines() if line.startswith('train [')]
    assert len(bars) == 11
    assert bars[-1].startswith('train [' + '#' * 30 + '] 100/100 it')
    # The time left follows the real remaining time, without jumps.
    lefts = []
    for done, line in enumerate(lines, 1):
        if 'it/s' in line and done >= 22:
            assert ', 0.50 it/s' in line or ', 0.49 it/s' in line or \
                ', 0.51 it/s' in line, line
            rate = hook_rate(line)
            lefts.append((100 - done) / rate)
    assert lefts == sorted(lefts, reverse=True)
    for done, left in zip(range(22, 101), lefts):
        assert left == pytest.approx(2.0 * (100 - done), abs=3.0)


def hook_rate(line):
    return float(line.split(' it/s')[0].rsplit(', ', 1)[1])


def test_train_bar_is_off_by_default_and_on_a_tty_redraws(monkeypatch):
    import io
    hook = ProgressBarHook()
    runner = SimpleNamespace(iter=0, max_iters=3)
    hook.before_train(runner)
    hook.after_train_iter(runner, 0, None, None)  # no bar: nothing happens

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr('sys.stdout', term)
    hook = ProgressBarHook(train=True, refresh=1.0, estimate_after=100)
    run_training(hook, [0.6] * 5)
    text = term.getvalue()
    # redrawn in place at most once a second, and at the end
    assert text.count('\r') == 3 and text.endswith('5/5 it, elapsed 3 s, '
                                                   '1.67 it/s, left ~0 s\n')
