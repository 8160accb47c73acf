"""One image through the pipeline: read -> steps -> write, as :class:`Options` say.

Reading and writing are :mod:`convcli.imageio`'s; the steps
(:mod:`convcli.steps`) run in order on floats, except where
:func:`fused_8bit` (the one place that decides it) lets the engine go from
8-bit pixels to 8-bit pixels in one pass. Raises :class:`ConvcliError` for
anything a user can fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .compare import result_origin, write_compare
from .engine import ClipStats, convolve_uint8, sample_centres
from .errors import ImageShapeError
from .imageio.formats import output_format
from .imageio.targets import check_destination, check_target, compare_path
from .options import DEPTHS, RANGES, Options
from .steps import Convolve, Filters, Pool, Step

__all__ = [
    "DEPTHS",
    "RANGES",
    "Options",
    "Outcome",
    "Rendered",
    "carry_alpha",
    "filter_image",
    "fused_8bit",
    "map_range",
    "process",
    "render",
    "result_origin",
    "write_compare",
]


@dataclass(frozen=True)
class Outcome:
    """What one processed image looked like, for the report."""

    input_size: tuple[int, int]  # (width, height) as loaded
    output_size: tuple[int, int]
    warnings: tuple[str, ...] = ()  # one line each, about the input, for the report
    raw_min: float | None = None  # the float result before --range and clipping
    raw_max: float | None = None
    clipped: float = 0.0  # share of output pixels (0..1) that clipping changed
    geometry: dict[str, object] | None = None  # pads, stride, dilation, maps (--json)
    encoded: bytes | None = None  # the whole output file, when asked for bytes (stdout)


def geometry_of(options: Options, shape: tuple[int, ...]) -> dict[str, object]:
    """What the first convolution did to an image of ``shape``, for ``--json``:
    ``pads`` (``top``, ``bottom``, ``left``, ``right``), ``stride``, ``dilation``
    (``[rows, cols]``) and the number of output ``maps``."""
    geometry = options.filters[0].geometry
    (top, bottom), (left, right) = geometry.pads(shape)
    return {
        "pads": {"top": top, "bottom": bottom, "left": left, "right": right},
        "stride": list(geometry.stride),
        "dilation": list(geometry.dilation),
        "maps": options.maps,
    }


def process(
    source: Path,
    target: Path,
    options: Options,
    targets: tuple[Path, ...] = (),
    *,
    data: bytes | None = None,
    encode_as: str | None = None,
) -> Outcome:
    """Read ``source``, apply the steps, write ``target``.

    Several output maps go to one ``.npy`` ``target`` as ``(H, W, maps)``, or
    to image files, one per map: ``targets`` (``targets[m]`` for map ``m``).
    ``data``: the input's bytes, already read (stdin); ``source`` names it.
    ``encode_as`` (a format, e.g. ``"PNG"``): nothing is written; the whole
    encoded file is returned in :attr:`Outcome.encoded` (for stdout, which
    must never get a partial image).
    """
    from .imageio import load_image, save_image  # Pillow only when there is work
    from .imageio.modes import composite
    from .imageio.write import encode

    write = options.write
    if encode_as is None:
        paths = (*(targets or (target,)), *((compare_path(target),) if write.compare else ()))
        for path in paths:
            if data is None:
                check_target(source, path, overwrite=write.overwrite)
            else:  # no input file that an output could be
                check_destination(path, overwrite=write.overwrite)
    fmt = output_format(target, depth=write.depth, color=options.read.color, fmt=encode_as)
    notes: list[str] = []
    read = options.read
    carried: dict[str, Any] = {}  # the input's ICC profile and DPI, for colour outputs
    image = load_image(
        source,
        read.size,
        max_pixels=read.max_pixels,
        background=read.background,
        notes=notes,
        color=read.color if options.channels is None else options.channels == 3,
        wide=write.depth == 16,
        meta=carried if read.color else None,
        data=data,
    )
    try:
        pixels, alpha = _split_alpha(image)
        if alpha is not None and options.channels is not None:
            # A bank reads RGB with transparency flattened, as gray images are read;
            # its maps are not pictures with transparency.
            pixels, alpha = composite(pixels, alpha, read.background), None
        elif options.maps > 1:
            alpha = None  # feature maps are not pictures with transparency
        rendered = render(pixels, options, fmt, source)
        out, shape = rendered.out, rendered.shape
        if alpha is not None:
            out = np.dstack([out, carry_alpha(alpha, options)])
        settings: dict[str, Any] = {
            "depth": write.depth,
            "compression": write.png_compression,
            "quality": write.quality,
            "icc_profile": carried.get("icc_profile"),
            "dpi": carried.get("dpi"),
        }
        encoded = None
        if encode_as is not None:
            encoded = encode(out, fmt, **settings)
        elif options.maps > 1 and fmt != "NPY":
            assert rendered.raw is not None  # several maps never take the fused path
            _write_maps(rendered.raw, targets, options)
        else:
            save_image(out, target, overwrite=write.overwrite, **settings)
            if write.compare:
                write_compare(pixels, out, target, options)
    except MemoryError:
        raise ImageShapeError("not enough memory to filter this image", source) from None
    return Outcome(
        input_size=(image.shape[1], image.shape[0]),
        output_size=(shape[1], shape[0]),
        warnings=tuple(notes),
        raw_min=rendered.raw_min,
        raw_max=rendered.raw_max,
        clipped=rendered.clipped,
        geometry=geometry_of(options, pixels.shape),
        encoded=encoded,
    )


@dataclass(frozen=True)
class Rendered:
    """What the writer is given for one image (before alpha), and the report's figures."""

    out: np.ndarray  # the array save_image writes: uint8 (fused), 0..255-scale floats, or raw
    raw: np.ndarray | None  # the float result before --range (None on the fused path)
    shape: tuple[int, ...]
    raw_min: float
    raw_max: float
    clipped: float  # share of pixels (any channel) that clipping changed


def render(
    pixels: np.ndarray, options: Options, fmt: str = "PNG", source: Path | None = None
) -> Rendered:
    """The steps and ``--range`` on loaded pixels (no alpha): what :func:`process` writes.

    The fused 8-bit path where :func:`fused_8bit` allows it, else the float
    path and :func:`map_range` (``.npy`` keeps the float result). Public so
    that ``convcli explain`` shows the very value ``apply`` writes.
    """
    if fused_8bit(pixels, options, fmt):
        out, shape, raw_min, raw_max, clipped = _filter_fused(pixels, options, source)
        return Rendered(out, None, shape, raw_min, raw_max, clipped)
    raw = filter_image(pixels, options, source)
    if fmt == "NPY":
        out, clipped = raw, 0.0  # the float result itself, nothing clipped
    elif options.maps > 1:  # one image per map: each is mapped as it is written
        out, clipped = raw, _maps_clipped(raw, options.write.output_range)
    else:
        out, clipped = map_range(raw, options.write.output_range)
    return Rendered(out, raw, raw.shape, float(raw.min()), float(raw.max()), clipped)


def _maps_clipped(raw: np.ndarray, mode: str) -> float:
    """The share of pixels clipped in any map, as :func:`_write_maps` maps each
    (``rescale`` stretches each map to its own range), a map at a time: mapping
    the whole ``(H, W, maps)`` stack at once would hold a rounded copy of it."""
    clipped = np.zeros(raw.shape[:2], dtype=bool)
    for index in range(raw.shape[2]):
        clipped |= _outside(map_range(raw[:, :, index], mode)[0])
    return float(clipped.mean())


def _write_maps(raw: np.ndarray, targets: tuple[Path, ...], options: Options) -> None:
    """Each map of ``raw`` ``(H, W, maps)`` to its own image file, as a gray image."""
    from .imageio import save_image

    if len(targets) != raw.shape[2]:
        raise ValueError(f"{raw.shape[2]} maps need as many targets, got {len(targets)}")
    write = options.write
    for index, path in enumerate(targets):
        out, _ = map_range(raw[:, :, index], write.output_range)
        save_image(
            out, path, overwrite=write.overwrite, depth=write.depth,
            compression=write.png_compression, quality=write.quality,
        )  # fmt: skip


def fused_8bit(pixels: np.ndarray, options: Options, fmt: str = "PNG") -> bool:
    """Whether the engine's fused 8-bit path serves this image: the one place that decides.

    Only when the written pixels are one convolution's sums, rounded and
    clipped to 8 bits: a single linear :class:`Convolve` step (no scale or
    offset, from the options or a kernel file), ``--range clip``, 8-bit
    output that is not ``.npy`` (which keeps the float result), and 8-bit
    input: grayscale, or ``--color`` (each channel its own bands). Everything
    else takes the float path.
    """
    (step, *rest) = options.steps
    return (
        not rest
        and isinstance(step, Convolve)
        and step.linear
        and (options.write.output_range, options.write.depth) == ("clip", 8)
        and fmt != "NPY"
        and pixels.dtype == np.uint8
        and (pixels.ndim == 2 or (pixels.ndim == 3 and options.read.color))
    )


def _filter_fused(
    pixels: np.ndarray, options: Options, source: Path | None
) -> tuple[np.ndarray, tuple[int, ...], float, float, float]:
    """uint8 -> uint8 in cache-sized bands (no full-size float copy), with the
    report's figures: shape, unrounded min and max, share of pixels clipped."""
    (step,) = options.convolutions
    _check_fits(pixels.shape, step, 0, source)
    stats = ClipStats()
    out = convolve_uint8(
        pixels,
        step.kernel.weights,
        padding=step.padding,
        border=step.border,
        stride=step.stride,
        dilation=step.dilation,
        stats=stats,
        threads=options.threads,
    )
    return out, out.shape, stats.minimum, stats.maximum, stats.clipped / stats.pixels


def filter_image(image: np.ndarray, options: Options, source: Path | None = None) -> np.ndarray:
    """The float path: every step in order, never rounded or clipped.

    ``image`` is ``(H, W)``, or ``(H, W, C)`` whose channels are filtered one
    by one, unless a filter bank reads them together (its ``C_in`` is 3).
    Kernels are chained in floating point with no rounding or clipping
    between them; each kernel's own ``scale``/``offset`` (from a kernel file)
    applies to its step, ``--scale``/``--offset`` (an :class:`Affine` step)
    at the end. :func:`map_range` and the writer round. The result is
    ``(H', W')``, ``(H', W', C)`` for colour, or ``(H', W', maps)``.
    """
    reads_channels = any(isinstance(s, Filters) and s.bank is not None for s in options.steps)
    if image.ndim == 3 and not reads_channels:
        channels = [filter_image(image[..., c], options, source) for c in range(image.shape[2])]
        return np.stack(channels, axis=-1)
    result = image
    for index, step in enumerate(options.steps):
        _check_fits(result.shape, step, index, source)
        result = step.apply(result, threads=options.threads)
    return result


def _check_fits(shape: tuple[int, ...], step: Step, index: int, source: Path | None) -> None:
    """The one shape check a user can trip over: nothing left after 'valid'."""
    if not isinstance(step, (Convolve, Filters, Pool)) or min(step.output_shape(shape)) > 0:
        return
    if isinstance(step, Pool):  # last, after the convolution (and bias...)
        kh, kw = step.size
        spec = ",".join(
            f"{key}={rows if rows == cols else f'{rows}x{cols}'}"
            for key, (rows, cols) in (("size", step.size), ("stride", step.geometry.stride))
            if key == "size" or step.geometry.stride != step.size
        )
        raise ImageShapeError(
            f"the convolution's result is {shape[1]}x{shape[0]}, smaller than the {kw}x{kh} "
            f"pool: 'valid' leaves nothing (use --pool {step.kind}:{spec},padding=same)",
            source,
        )
    what = "image" if index == 0 else f"result of kernel {index}"
    kh, kw = step.geometry.span
    spread = "" if step.geometry.dilation == (1, 1) else " (dilated)"
    raise ImageShapeError(
        f"{what} is {shape[1]}x{shape[0]}, smaller than the {kw}x{kh} kernel{spread}: "
        "'valid' padding leaves nothing (use --padding same)",
        source,
    )


def map_range(raw: np.ndarray, mode: str) -> tuple[np.ndarray, float]:
    """``--range``: float result -> values for the 0..255 writer, and the share clipped.

    ``clip`` keeps the values (the writer rounds and clips to 0..255, the
    tutorial's ``negative_to_zero`` plus the top end); ``abs`` takes the
    magnitude first (edge kernels' negative half shows); ``rescale`` stretches
    the result's min..max to 0..255 (a constant result becomes 0). The share
    is of pixels (any channel) whose rounded value lay outside 0..255.

    >>> map_range(np.array([[-10.0, 0.0, 300.0, 20.0]]), "abs")
    (array([[ 10.,   0., 300.,  20.]]), 0.25)
    """
    if mode == "abs":
        raw = np.abs(raw)
    elif mode == "rescale":
        low, high = float(raw.min()), float(raw.max())
        if high > low:
            return (raw - low) / (high - low) * 255, 0.0  # divide first: tiny spans
        return np.zeros_like(raw), 0.0
    elif mode != "clip":
        raise ValueError(f"range must be one of {', '.join(RANGES)}; got {mode!r}")
    return raw, float(_outside(raw).mean())


def _outside(values: np.ndarray) -> np.ndarray:
    """``(H, W)``: the pixels (any channel) whose rounded value lies outside 0..255."""
    rounded = np.rint(values)
    outside = (rounded < 0) | (rounded > 255)
    return outside.reshape(*outside.shape[:2], -1).any(axis=-1) if outside.ndim > 2 else outside


def _split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(H, W, 4)`` -> colour and alpha; anything else has no alpha."""
    if image.ndim == 3 and image.shape[2] == 4:
        return image[..., :3], image[..., 3]
    return image, None


def carry_alpha(alpha: np.ndarray, options: Options) -> np.ndarray:
    """Alpha moved exactly as the pixels were: cropped by ``valid``, kept by
    ``same``, extended by ``full`` with the ``--border`` rule (zero: transparent).

    Each step that moves pixels (a convolution's padding, stride and
    dilation, a pool's) takes the value its output is centred on
    (:func:`convcli.engine.sample_centres`): copied, never blurred.
    """
    result = alpha
    for step in options.steps:
        if isinstance(step, (Convolve, Filters, Pool)):
            result = sample_centres(result, step.geometry, step.border)
    return result.astype(np.float64)
