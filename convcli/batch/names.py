"""Output file names: the ``--name`` template, its fields, and several maps per input.

A template is checked once, before any job exists (a bad field or a
template that makes a path is a usage error that costs nothing), then
rendered per input. ``{dir}`` is the input's folder below the folder or
pattern prefix it was found under, so ``-r`` can mirror it.
"""

from __future__ import annotations

import os
import re
import string
from pathlib import Path

from ..errors import PlanError
from ..imageio.formats import OUTPUT_FORMATS

__all__ = [
    "DEFAULT_NAME",
    "MAPS_NAME",
    "NAME_FIELDS",
    "check_template",
    "maps_template",
    "render",
]

DEFAULT_NAME = "{stem}.png"
MAPS_NAME = "{stem}-{map:02d}.png"  # the default when each input makes several maps
NAME_FIELDS = ("stem", "ext", "dir", "kernel", "padding", "index", "map")


def maps_template(
    maps: int, name: str | None, template: str, as_folder: bool, destination: Path
) -> tuple[bool, str]:
    """``(one file per map?, template)`` when each input makes several maps.

    One ``.npy`` per input holds them all ``(H, W, maps)``; image formats
    take one file per map, named with ``{map}`` (default ``{stem}-{map:02d}.png``).
    """
    if not as_folder:
        if OUTPUT_FORMATS.get(destination.suffix.lower()) == "NPY":
            return False, template
        raise PlanError(
            f"each input makes {maps} maps: OUTPUT must be a folder (one image per map, "
            "see --name {map}) or a .npy file (all maps in one array)",
            destination,
        )
    if name is None:
        return True, MAPS_NAME
    if OUTPUT_FORMATS.get(Path(name).suffix.lower()) == "NPY":
        return False, template
    if "{map" not in name:
        raise PlanError(
            f"--name {name!r}: each input makes {maps} maps; put {{map}} in the name "
            "(e.g. '{stem}-{map:02d}.png') or write .npy files"
        )
    return True, template


def check_template(template: str, fields: dict[str, str]) -> str:
    """Refuse a ``--name`` template that cannot make a file name."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise PlanError(f"--name {template!r}: {exc}") from None
    for name in names:
        if name not in NAME_FIELDS:
            raise PlanError(
                f"--name {template!r}: unknown field {{{name}}}; "
                f"use {', '.join('{' + f + '}' for f in NAME_FIELDS)}"
            )
    try:
        sample = render(template, Path("photo.jpg"), fields, 1, 0)
    except (ValueError, TypeError, IndexError) as exc:
        raise PlanError(f"--name {template!r}: {exc}") from None
    if "/" in sample or os.sep in sample or sample in ("", ".", ".."):
        raise PlanError(f"--name {template!r}: must make a file name, not a path")
    if "{dir" in template and not template.startswith("{dir}"):
        raise PlanError(
            f"--name {template!r}: {{dir}} is a folder path ending in '/'; "
            "put it first, as in '{dir}{stem}.png'"
        )
    return template


def render(
    template: str,
    source: Path,
    fields: dict[str, str],
    index: int,
    map_index: int = 0,
    below: str = "",
) -> str:
    return template.format(
        map=map_index,
        dir=below,
        stem=source.stem,
        ext=source.suffix[1:],
        kernel=re.sub(r"[^\w.+-]+", "-", fields["kernel"]).strip("-") or "kernel",
        padding=fields["padding"],
        index=index,
    )
