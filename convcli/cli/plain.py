"""stderr without Rich, when it is not a terminal: the same lines, ~30 ms sooner.

Rich's console costs about a quarter of a one-image run's start-up, and on a
pipe or a file all it does with our lines is drop the markup (no colour, no
wrapping: every call passes ``soft_wrap=True``). :class:`PlainStderr` does
that alone, with Rich's own markup rules (:func:`render` and :func:`escape`
are checked against Rich in the tests). Whenever Rich would colour a
non-terminal (``FORCE_COLOR``, ``TTY_COMPATIBLE``, ``TTY_INTERACTIVE``), Rich
is used as before.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, TextIO

__all__ = ["PlainStderr", "escape", "render", "wanted"]

# rich.markup's own patterns: a tag is "[" + [a-z#/@] + ... + "]", and an odd
# number of backslashes before it makes it literal text.
_TAG = re.compile(r"((\\*)\[([a-z#/@][^[]*?)])")
_ESCAPE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
_EMOJI = re.compile(r":\S+?:")
_RICH_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def wanted(stream: TextIO) -> bool:
    """Whether ``stream`` gets plain lines: not a terminal, and nothing asks for colour."""
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return not terminal and not any(os.environ.get(name) for name in _RICH_ENV)


def escape(text: str) -> str:
    r"""``rich.markup.escape`` without importing Rich: ``text`` shown, never read as markup.

    >>> escape("out[dim].png")
    'out\\[dim].png'
    """

    def double(match: re.Match[str]) -> str:
        backslashes, tag = match.groups()
        return f"{backslashes}{backslashes}\\{tag}"

    text = _ESCAPE.sub(double, text)
    if text.endswith("\\") and not text.endswith("\\\\"):
        return text + "\\"
    return text


def render(markup: str, *, markup_tags: bool = True) -> str:
    r"""The text Rich prints for ``markup``, without its styles (``rich.markup.render``'s
    walk: a run of ``2n`` backslashes before a tag is ``n`` backslashes, an odd
    run makes the tag text, and ``\[`` elsewhere is ``[``). Text that may hold
    an emoji code (``:name:``, which Rich replaces) is left to Rich itself.

    >>> render("[green]✓[/] a\\[dim].png [dim](3x4)[/]")
    '✓ a[dim].png (3x4)'
    """
    if _EMOJI.search(markup):
        return _rich_render(markup, markup_tags)
    if not markup_tags:
        return markup
    out: list[str] = []
    position = 0
    for match in _TAG.finditer(markup):
        whole, backslashes, _ = match.groups()
        if match.start() > position:
            out.append(markup[position : match.start()].replace("\\[", "["))
        position = match.end()
        if backslashes:
            out.append("\\" * (len(backslashes) // 2))
            if len(backslashes) % 2:  # escaped: the tag is text
                out.append(whole[len(backslashes) :])
    out.append(markup[position:].replace("\\[", "["))
    return "".join(out)


def _rich_render(text: str, markup_tags: bool) -> str:
    from rich.console import Console

    console = Console(file=None, force_terminal=False, color_system=None, highlight=False)
    with console.capture() as captured:
        console.print(text, markup=markup_tags, soft_wrap=True, end="")
    return captured.get()


class PlainStderr:
    """The part of ``rich.console.Console`` convcli uses on stderr, as plain lines."""

    is_terminal = False

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self.quiet = False

    def print(self, text: str, *, markup: bool = True, **_: Any) -> None:
        """One line (or several, for a summary): ``text`` with its markup dropped."""
        if self.quiet:
            return
        stream = self._stream or sys.stderr
        try:
            stream.write(render(text, markup_tags=markup) + "\n")
            stream.flush()
        except BrokenPipeError:  # stderr's reader went away: go on silently, as Rich does here
            self.quiet = True
