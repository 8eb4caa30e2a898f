"""Fenced shell blocks of the documentation, for the docs-as-tests harness.

A block is a fenced code block whose language is ``bash``, ``shell``,
``sh`` or ``console``. The line directly above its opening fence may be

    <!-- docs-test: skip (REASON) -->

to say that the harness does not run it, and why (the reason is
mandatory). In ``console`` blocks only the lines starting with ``$ `` are
commands; in the other languages every line is.
"""
import glob
import os.path as osp
import re
from typing import List, NamedTuple, Optional

SHELL_LANGUAGES = ('bash', 'shell', 'sh', 'console')
FENCE = re.compile(r'^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*'
                   r'(?P<lang>[\w+-]*)')
MARKER = re.compile(r'^\s*<!--\s*docs-test:\s*skip\s*\((?P<reason>.*)\)'
                    r'\s*-->\s*$')
ANY_MARKER = re.compile(r'^\s*<!--.*docs-test', re.IGNORECASE)


class DocBlock(NamedTuple):
    """One fenced shell block."""
    path: str  # markdown file
    line: int  # 1-based line of the opening fence
    lang: str
    text: str  # the block's content, as written
    skip_reason: Optional[str]  # None: the harness runs it

    @property
    def commands(self) -> str:
        """The shell text to run (``$`` prompts of console blocks only)."""
        if self.lang != 'console':
            return self.text
        lines = []
        for line in self.text.splitlines():
            if line.startswith('$ '):
                lines.append(line[2:])
            elif lines and lines[-1].endswith('\\'):
                lines.append(line)  # continuation of a prompt line
        return '\n'.join(lines)


class MarkerError(ValueError):
    """A ``docs-test`` comment that is not a well-formed skip marker."""


def parse_blocks(text: str, path: str = '<string>') -> List[DocBlock]:
    """Every fenced shell block of a markdown text.

    Raises:
        MarkerError: A ``docs-test`` comment without a reason, with another
            verb, or not directly above a shell block.
    """
    lines = text.split('\n')
    blocks = []
    used_markers = set()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match.group('fence')
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        lang = match.group('lang').lower()
        if lang in SHELL_LANGUAGES:
            reason = None
            above = lines[i - 1] if i > 0 else ''
            if ANY_MARKER.search(above):
                marker = MARKER.match(above)
                if not marker or not marker.group('reason').strip():
                    raise MarkerError(
                        f'{path}:{i}: {above.strip()!r} is not a skip marker '
                        'with a reason: write <!-- docs-test: skip (why the '
                        'test cannot run it) -->')
                reason = marker.group('reason').strip()
                used_markers.add(i - 1)
            indent = len(match.group('indent'))
            body = '\n'.join(line[indent:] for line in lines[i + 1:end])
            blocks.append(DocBlock(path, i + 1, lang, body, reason))
        i = end + 1
    for number, line in enumerate(lines):
        if ANY_MARKER.search(line) and number not in used_markers:
            raise MarkerError(
                f'{path}:{number + 1}: {line.strip()!r} is not directly above '
                'the opening fence of a shell block')
    return blocks


def documented_markdown(repo: str) -> List[str]:
    """README.md and docs/en/**/*.md."""
    files = [osp.join(repo, 'README.md')]
    files += glob.glob(osp.join(repo, 'docs', 'en', '**', '*.md'),
                       recursive=True)
    return sorted(f for f in files if osp.isfile(f))


def all_blocks(repo: str) -> List[DocBlock]:
    """The shell blocks of every documented markdown file."""
    blocks = []
    for path in documented_markdown(repo):
        with open(path, encoding='utf-8') as f:
            blocks += parse_blocks(f.read(), osp.relpath(path, repo))
    return blocks
