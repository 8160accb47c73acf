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

from .imageio.formats import DEPTHS
from .imageio.sizes import Resize
from .kernels import Kernel
from .kernels.banks import Bank
from .limits import MAX_PIXELS
from .steps import Activation, Affine, Bias, Combine, Convolve, Filters, Pool, Step

__all__ = ["DEPTHS", "RANGES", "Options", "ReadOptions", "WriteOptions"]

RANGES = ("clip", "abs", "rescale")


@dataclass(frozen=True)
class ReadOptions:
    """How an input file becomes an array."""

    size: tuple[int, int] | Resize | None = None  # (width, height), or 224x/x224/50%
    max_pixels: int = MAX_PIXELS  # inputs declaring more pixels are refused unread
    background: tuple[int, int, int] = (255, 255, 255)  # transparency is flattened over it
    color: bool = False  # R, G and B filtered separately, alpha kept


@dataclass(frozen=True)
class WriteOptions:
    """How a float result becomes a file."""

    output_range: str = "clip"  # clip | abs | rescale: how values become 0..255
    depth: int = 8  # bits per sample of PNG/TIFF outputs (16: grayscale only)
    png_compression: int | None = None  # zlib level 0-9; None: zlib's fast RLE strategy
    quality: int = 90  # JPEG quality 1-100 (Pillow's encoder)
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
        if not any(isinstance(step, (Convolve, Filters)) for step in self.steps):
            raise ValueError("options need at least one convolution step")

    @classmethod
    def build(
        cls,
        kernel: Kernel | Bank,
        *,
        then: tuple[Kernel | Bank, ...] = (),
        padding: str = "valid",
        border: str = "zero",
        stride: int | tuple[int, int] = 1,
        dilation: int | tuple[int, int] = 1,
        layout: str = "hwio",
        bias: tuple[float, ...] | None = None,
        combine: str | None = None,
        activation: str | None = None,
        pool: Pool | None = None,
        scale: float = 1.0,
        offset: float = 0.0,
        threads: int | None = None,
        **groups: Any,
    ) -> Options:
        """Options from flat keywords, in the layer's fixed order: the kernels
        (``kernel``, then ``then``; a filter bank only last) with one padding,
        border, stride and dilation -> ``bias`` -> ``combine`` -> ``activation``
        -> ``pool`` -> ``--scale``/``--offset``; and any field of
        :class:`ReadOptions` or :class:`WriteOptions` by name.

        With ``combine`` the kernels (or the bank's maps) are applied side by
        side to the same input (``"maps"`` keeps each as its own map);
        without it they are chained. ``ValueError`` for combinations that
        cannot be built (a message a CLI can show as a usage error).

        >>> from convcli.kernels import KERNELS
        >>> Options.build(KERNELS["blur"], padding="same", color=True).read.color
        True
        >>> Options.build(KERNELS["sobel-x"], then=(KERNELS["sobel-y"],), combine="magnitude").maps
        1
        """
        chain = (kernel, *then)
        geometry: dict[str, Any] = {"padding": padding, "border": border}
        geometry |= {"stride": stride, "dilation": dilation}
        banks = [i for i, k in enumerate(chain) if isinstance(k, Bank)]
        steps: list[Step] = []
        if combine is not None:
            if not banks and len(chain) == 1:
                raise ValueError(
                    f"--combine {combine} needs several -k kernels (or a filter bank): "
                    "one kernel makes one map"
                )
            if banks and len(chain) > 1:
                raise ValueError("--combine applies one filter bank, or several 2-D kernels")
            if banks:
                steps.append(Filters(bank=chain[0], layout=layout, **geometry))  # type: ignore[arg-type]
            else:
                steps.append(Filters(kernels=chain, **geometry))  # type: ignore[arg-type]
        else:
            if banks and banks != [len(chain) - 1]:
                raise ValueError("a filter bank can only be the last kernel of a chain")
            for k in chain:
                if isinstance(k, Bank):
                    steps.append(Filters(bank=k, layout=layout, **geometry))
                else:
                    steps.append(Convolve(k, **geometry))
        last = steps[-1]
        maps = last.maps if isinstance(last, Filters) else 1
        if bias is not None:
            if len(bias) != maps:
                raise ValueError(
                    f"--bias has {len(bias)} value{'s' if len(bias) != 1 else ''}; the "
                    f"convolution makes {maps} map{'s' if maps != 1 else ''}"
                )
            steps.append(Bias(tuple(float(b) for b in bias)))
        if combine is not None and combine != "maps":
            steps.append(Combine(combine))
        if activation is not None:
            steps.append(Activation(activation))
        if pool is not None:
            steps.append(pool)
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
    def maps(self) -> int:
        """Output maps per image: a bank's or side-by-side kernels' count unless
        combined, else 1 (a colour image's channels are not maps)."""
        count = 1
        for step in self.steps:
            if isinstance(step, Filters):
                count = step.maps
            elif isinstance(step, Combine):
                count = 1
        return count

    @property
    def channels(self) -> int | None:
        """Input channels the first step reads: 1 or 3 for a filter bank, None otherwise."""
        first = self.steps[0]
        return first.channels if isinstance(first, Filters) and first.bank is not None else None

    @property
    def label(self) -> str:
        """The filters' names, joined by ``+`` (the ``{kernel}`` of ``--name``)."""
        return "+".join(s.name for s in self.steps if isinstance(s, (Convolve, Filters)))

    @property
    def convolutions(self) -> tuple[Convolve, ...]:
        return tuple(step for step in self.steps if isinstance(step, Convolve))

    @property
    def filters(self) -> tuple[Convolve | Filters, ...]:
        """The convolution steps, chained or side by side, in order."""
        return tuple(step for step in self.steps if isinstance(step, (Convolve, Filters)))

    @property
    def kernels(self) -> tuple[Kernel, ...]:
        """Every 2-D kernel, in the order they are applied (for names and reports)."""
        found: list[Kernel] = []
        for step in self.filters:
            found.extend((step.kernel,) if isinstance(step, Convolve) else step.kernels)
        return tuple(found)

    @property
    def padding(self) -> str:
        """The first convolution's padding (the CLI gives every kernel the same)."""
        return self.filters[0].padding

    @property
    def border(self) -> str:
        return self.filters[0].border

    def describe(self) -> dict[str, Any]:
        """The ``--json`` ``options`` block: every field, kernels by name.

        ``kernels``, ``padding`` and ``border`` summarise the convolutions;
        ``steps`` lists every step in order.
        """
        doc: dict[str, Any] = {
            "kernels": [
                name
                for s in self.filters
                for name in ([s.bank.name] if isinstance(s, Filters) and s.bank else [])
                or [k.name for k in ((s.kernel,) if isinstance(s, Convolve) else s.kernels)]
            ],
            "padding": self.padding,
            "border": self.border,
            "steps": [step.describe() for step in self.steps],
            "scale": next((s.scale for s in self.steps if isinstance(s, Affine)), 1.0),
            "offset": next((s.offset for s in self.steps if isinstance(s, Affine)), 0.0),
        }
        for group in (self.read, self.write):
            for f in dataclasses.fields(group):
                value = getattr(group, f.name)
                doc[f.name] = (
                    list(value)
                    if isinstance(value, tuple)
                    else str(value)
                    if isinstance(value, Resize)
                    else value
                )
        doc["threads"] = self.threads
        return doc
