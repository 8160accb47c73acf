"""The cost model: which strategy is cheapest for a kernel and an output size.

Costs are counted in *passes*: one vectorised operation over a cache-resident
band, per output pixel. Every tuning constant lives in one :class:`CostModel`
(measured on a 2-core AMD EPYC with 1 MiB of L2 per core; see README
"Performance"); the strategies and the band runner read the same object, so a
test or a benchmark can swap in another (``dataclasses.replace(COSTS, ...)``
assigned to ``convcli.engine.cost.COSTS``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import decompose, native
from .geometry import Geometry

__all__ = [
    "COSTS",
    "STRATEGIES",
    "CostModel",
    "choose_strategy",
    "costs",
    "current",
    "direct_cost",
    "fft_tile",
    "next_fast",
    "pass_cost",
    "uses_product",
]

STRATEGIES = ("auto", "direct", "separable", "fft")


@dataclass(frozen=True)
class CostModel:
    """Every tuning constant of the cost model and the scheduler, in one place."""

    band_bytes: int = 1 << 18  # target size of one band buffer: a few fit in L2 together
    # Shift-and-accumulate makes a few cheap NumPy calls per band: with bands this
    # small, call overhead and two threads taking turns at the GIL cost more than
    # cache misses do, so its bands are 4x larger (4096², 3x3: 2x faster on 2 threads).
    direct_band_bytes: int = 1 << 20
    thread_min_pixels: int = 1 << 18  # below ~512x512 output pixels threads cost more
    fft_cost: float = 3.5  # direct-pass equivalents per output pixel per log2(FFT size)
    fft_fixed: float = 7e6  # set-up (kernel spectrum, a first tile) in passes x pixels
    fft_tile: int = 256  # largest FFT tile side; larger tiles fall out of cache
    gemm_min_cost: int = 16  # 1-D passes costlier than this (~11+ taps) are matrix products
    gemm_max_taps: int = 129  # ... up to this length (longer ones go to FFT anyway)
    gemm_rows: int = 32  # rows per matrix product
    gemm_cost: float = 14.0  # direct-pass equivalents of one 1-D matrix-product pass
    blas_serial: int = 1 << 18  # OpenBLAS threads a GEMM above ~4 x 65536 multiply-adds
    # A column stride deals each band into contiguous planes first: one copy of every
    # input pixel, measured at ~2 passes (4096², 3x3 at stride 2: 5 ms of 15).
    phase_cost: float = 2.0
    bank_band_bytes: int = 1 << 21  # im2col patches of one bank band (L2-sized: 2 MiB)
    # The compiled band loop (engine/fused.py), when built: every tap of a block of
    # outputs in registers, one store per output. Measured at 4096² float32 (make
    # bench): 5x5 dense 21.8 ms against 3.75 ms per NumPy pass (sharpen: 7 passes in
    # 26.3 ms), so ~0.2 pass a tap, plus about one pass of fixed cost (0.3 keeps a
    # margin). A 1-D pass costs more a tap (a 31-tap pass 69 ms, ~0.5 pass a tap: a
    # column pass reads 31 rows per output row, out of L1), so 1-D passes switch to
    # the matrix product (gemm_cost) from ~26 taps; gaussian5 is a tie (36.7 ms
    # direct, 36.2 separable) that goes to separable. Re-measured after the loop got
    # vectors for stride 2, read the image in place and prefetched rows (2048²
    # float32, loaded machine, the strategies timed in turn): gaussian5 7.9 ms direct
    # against 8.3 separable, 7x7 Gaussian 12.9 against 9.7, dense 13x13 30.9 ms
    # direct against 48.6 FFT, dense 15x15 48.1 against 63.2: 0.25 a tap sends each
    # of these to the faster (FFT from dense 17x17).
    compiled: bool = True  # use it when built (False: the pure-NumPy strategies)
    compiled_tap_cost: float = 0.25
    compiled_pass_tap_cost: float = 0.5
    compiled_fixed: float = 1.0
    # Per output, a column stride of 2 (vectors of even elements picked in registers,
    # four input pixels read per output: 4096² at stride 2, sharpen 4.4 ms and a dense
    # 3x3 4.7 ms for 4.2 M outputs, 1.6-2x stride 1's time per output), and wider
    # column strides (the scalar loop: about NumPy's phase planes, 0.7-1.1x).
    compiled_stride2: float = 1.75
    compiled_strided: float = 6.5


COSTS = CostModel()


def current() -> CostModel:
    """The model in force (read at call time, so replacing ``COSTS`` takes effect)."""
    return COSTS


def choose_strategy(
    image_shape: tuple[int, int],
    kernel: object,
    padding: str = "valid",
    *,
    stride: int | tuple[int, int] = 1,
    dilation: int | tuple[int, int] = 1,
) -> str:
    """The strategy ``auto`` would use: the cheapest by the cost model.

    The kernel's own dtype sets the separability tolerance (see
    :mod:`convcli.engine.decompose`), so pass it as given, not cast.

    >>> choose_strategy((224, 224), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    'direct'
    >>> choose_strategy((1024, 1024), np.ones((15, 15)))
    'separable'
    >>> choose_strategy((1024, 1024), np.random.default_rng(0).normal(size=(31, 31)))
    'fft'
    """
    weights = np.asarray(kernel)
    geometry = Geometry(weights.shape, padding, stride, dilation)
    shape = geometry.output_shape(image_shape)
    return min(costs(weights, shape, geometry).items(), key=lambda item: item[1])[0]


def costs(
    kernel: np.ndarray, out_shape: tuple[int, int], geometry: Geometry | None = None
) -> dict[str, float]:
    """Passes per output pixel for each strategy, in order of simplicity (ties go first).

    With a stride ``(sr, sc)``: direct computes only the strided outputs (plus,
    for ``sc > 1``, a copy of the ``sr·sc`` input pixels per output into column
    planes); separable's row pass runs over ``sr`` padded rows per output row;
    FFT computes every stride-1 output of its tiles, ``sr·sc`` times the work.
    """
    geometry = geometry or Geometry((kernel.shape[0], kernel.shape[1]))
    (sr, sc), spread = geometry.stride, geometry.span
    phases = current().phase_cost * sr * sc if sc > 1 else 0.0
    if compiled():
        result: dict[str, float] = {"direct": compiled_cost(kernel, column_stride=sc)}
    else:
        result = {"direct": float(direct_cost(kernel)) + phases}
    found = decompose.terms(kernel)
    if found is not None:
        result["separable"] = phases + sum(
            pass_cost(col) + pass_cost(row) * sr + 1 for col, row in found
        )
    dense = ((out_shape[0] - 1) * sr + 1, (out_shape[1] - 1) * sc + 1)
    result["fft"] = _fft_cost(spread, dense) * sr * sc
    return result


def direct_cost(kernel: np.ndarray) -> int:
    """Shift-and-accumulate: one pass per non-zero tap plus one per distinct weight."""
    nonzero = np.asarray(kernel, dtype=np.float64)
    values = nonzero[nonzero != 0].tolist()
    return len(values) + len(set(values))  # np.unique would import numpy.ma: 15 ms


def compiled() -> bool:
    """Whether the direct strategy runs compiled (built, and ``CostModel.compiled``)."""
    return native.extension is not None and current().compiled


def compiled_cost(kernel: np.ndarray, *, column_stride: int = 1) -> float:
    """The compiled direct strategy: a fixed pass plus a fraction of one per non-zero
    tap (a larger fraction for a 1-D kernel, one of a separable kernel's passes),
    times ``compiled_stride2`` at column stride 2 and ``compiled_strided`` beyond."""
    model = current()
    weights = np.asarray(kernel)
    taps = int(np.count_nonzero(weights))
    one_d = min(weights.shape) == 1 and weights.size > 1
    per_tap = model.compiled_pass_tap_cost if one_d else model.compiled_tap_cost
    if column_stride == 2:
        per_tap *= model.compiled_stride2
    elif column_stride > 2:
        per_tap *= model.compiled_strided
    return model.compiled_fixed + per_tap * taps


def uses_product(weights: np.ndarray) -> bool:
    """Whether a 1-D pass of these weights runs as a banded matrix product: when
    it is long (NumPy) or dearer than one (compiled), up to ``gemm_max_taps``."""
    model = current()
    if weights.size > model.gemm_max_taps:
        return False
    if compiled():
        return compiled_cost(weights[None, :]) > model.gemm_cost
    return direct_cost(weights[None, :]) > model.gemm_min_cost


def pass_cost(weights: np.ndarray) -> float:
    """A 1-D pass: its direct cost, or a matrix product's (measured ~14 passes)."""
    if uses_product(weights):
        return current().gemm_cost
    if compiled():
        return compiled_cost(weights[None, :])
    return float(direct_cost(weights[None, :]))


def _fft_cost(kernel_shape: tuple[int, int], out_shape: tuple[int, int]) -> float:
    model = current()
    (nh, th), (nw, tw) = (fft_tile(k, n) for k, n in zip(kernel_shape, out_shape, strict=True))
    pixels = out_shape[0] * out_shape[1]
    return model.fft_cost * math.log2(nh * nw) * (nh * nw) / (th * tw) + model.fft_fixed / pixels


def fft_tile(k: int, n: int) -> tuple[int, int]:
    """``(N, T)`` for one axis: FFT length and useful output length per tile."""
    limit = current().fft_tile
    want = n + k - 1
    size = next_fast(want) if want <= limit else max(next_fast(4 * (k - 1)), limit)
    return size, min(size - k + 1, n)


@functools.lru_cache(maxsize=256)
def next_fast(n: int) -> int:
    """The smallest ``2^a 3^b 5^c`` at least ``n`` (pocketfft's fast sizes).

    >>> [next_fast(n) for n in (7, 226)]
    [8, 240]
    """
    best = 1 << max(n - 1, 0).bit_length()
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            size = power35
            while size < n:
                size *= 2
            best = min(best, size)
            power35 *= 3
        power5 *= 5
    return best
