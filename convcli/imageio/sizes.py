"""``--size`` as ImageMagick's geometry reads it: ``224x`` ``x224`` ``50%`` (no Pillow).

An exact ``WxH`` stays a plain ``(width, height)`` tuple everywhere. The
relative forms need the image's own size, so they travel as a
:class:`Resize` and are resolved by the loader, once the header is read.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Resize"]


@dataclass(frozen=True)
class Resize:
    """A width or a height (the other keeps the aspect ratio), or a percentage.

    >>> Resize(width=224).resolve((640, 480)), Resize(height=224).resolve((640, 480))
    ((224, 168), (299, 224))
    >>> Resize(percent=50).resolve((641, 480)), str(Resize(percent=12.5))
    ((320, 240), '12.5%')
    """

    width: int | None = None
    height: int | None = None
    percent: float | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.width, self.height, self.percent) if v is not None]
        if len(given) != 1 or given[0] <= 0:
            raise ValueError("a Resize is one positive width, height or percentage")

    def resolve(self, size: tuple[int, int]) -> tuple[int, int]:
        """``(width, height)`` for an image of ``size``; each side at least 1."""
        width, height = size
        if self.percent is not None:
            scale = self.percent / 100
            return max(1, round(width * scale)), max(1, round(height * scale))
        if self.width is not None:
            return self.width, max(1, round(height * self.width / width))
        assert self.height is not None
        return max(1, round(width * self.height / height)), self.height

    def __str__(self) -> str:
        if self.percent is not None:
            return f"{self.percent:g}%"
        return f"{self.width}x" if self.width is not None else f"x{self.height}"
