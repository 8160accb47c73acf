"""How to read, filter and write the images of a run, grouped by what each part changes.

:class:`Options` is one frozen value shared by every image of a run (it is
sent once to each worker): how images are *read* (:class:`ReadOptions`), the
*steps* that filter them (:mod:`convcli.steps`, in order) and how results are
*written* (:class:`WriteOptions`). A new option changes one group; a new kind
of filtering is a new step. :meth:`Options.build` is the flat, keyword
constructor the CLI and tests use; :meth:`Options.describe` is the ``--json``
view, built from the fields themselves so that it cannot drift.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .kernels import Kernel
from .limits import MAX_PIXELS
from .steps import Affine, Convolve, Step

__all__ = ["DEPTHS", "RANGES", "Options", "ReadOptions", "WriteOptions"]

RANGES = ("clip", "abs", "rescale")
DEPTHS = (8, 16)


@dataclass(frozen=True)
class ReadOptions:
    """How an input file becomes an array."""

    size: tuple[int, int] | None = None  # (width, height), resized after grayscale
    max_pixels: int = MAX_PIXELS  # inputs declaring more pixels are refused unread
    background: tuple[int, int, int] = (255, 255, 255)  # transparency is flattened over it
    color: bool = False  # R, G and B filtered separately, alpha kept


@dataclass(frozen=True)
class WriteOptions:
    """How a float result becomes a file."""

    output_range: str = "clip"  # clip | abs | rescale: how values become 0..255
    depth: int = 8  # bits per sample of PNG/TIFF outputs (16: grayscale only)
    png_compression: int | None = None  # zlib level 0-9; None: zlib's fast RLE strategy
    overwrite: bool = False
    compare: bool = False  # also write <stem>.compare.png, input beside result


@dataclass(frozen=True)
class Options:
    """Everything about *how* to process, shared by all images of a run."""

    steps: tuple[Step, ...]
    read: ReadOptions = field(default_factory=ReadOptions)
    write: WriteOptions = field(default_factory=WriteOptions)
    threads: int | None = None  # engine threads per image; None: the engine decides by size

    def __post_init__(self) -> None:
        if not any(isinstance(step, Convolve) for step in self.steps):
            raise ValueError("options need at least one convolution step")

    @classmethod
    def build(
        cls,
        kernel: Kernel,
        *,
        then: tuple[Kernel, ...] = (),
        padding: str = "valid",
        border: str = "zero",
        scale: float = 1.0,
        offset: float = 0.0,
        threads: int | None = None,
        **groups: Any,
    ) -> Options:
        """Options from flat keywords: the kernels (``kernel``, then ``then`` in order)
        with one padding and border, ``--scale``/``--offset`` last, and any field of
        :class:`ReadOptions` or :class:`WriteOptions` by name.

        >>> from convcli.kernels import KERNELS
        >>> Options.build(KERNELS["blur"], padding="same", color=True).read.color
        True
        """
        steps: list[Step] = [Convolve(k, padding, border) for k in (kernel, *then)]
        if (scale, offset) != (1, 0):
            steps.append(Affine(scale, offset))
        read_names = {f.name for f in dataclasses.fields(ReadOptions)}
        write_names = {f.name for f in dataclasses.fields(WriteOptions)}
        unknown = set(groups) - read_names - write_names
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
        return cls(
            steps=tuple(steps),
            read=ReadOptions(**{k: v for k, v in groups.items() if k in read_names}),
            write=WriteOptions(**{k: v for k, v in groups.items() if k in write_names}),
            threads=threads,
        )

    @property
    def convolutions(self) -> tuple[Convolve, ...]:
        return tuple(step for step in self.steps if isinstance(step, Convolve))

    @property
    def kernels(self) -> tuple[Kernel, ...]:
        """Every kernel, in the order they are applied (for names and reports)."""
        return tuple(step.kernel for step in self.convolutions)

    @property
    def padding(self) -> str:
        """The first convolution's padding (the CLI gives every kernel the same)."""
        return self.convolutions[0].padding

    @property
    def border(self) -> str:
        return self.convolutions[0].border

    def describe(self) -> dict[str, Any]:
        """The ``--json`` ``options`` block: every field, kernels by name.

        ``kernels``, ``padding`` and ``border`` summarise the convolutions;
        ``steps`` lists every step in order.
        """
        doc: dict[str, Any] = {
            "kernels": [k.name for k in self.kernels],
            "padding": self.padding,
            "border": self.border,
            "steps": [step.describe() for step in self.steps],
            "scale": next((s.scale for s in self.steps if isinstance(s, Affine)), 1.0),
            "offset": next((s.offset for s in self.steps if isinstance(s, Affine)), 0.0),
        }
        for group in (self.read, self.write):
            for f in dataclasses.fields(group):
                value = getattr(group, f.name)
                doc[f.name] = list(value) if isinstance(value, tuple) else value
        doc["threads"] = self.threads
        return doc
