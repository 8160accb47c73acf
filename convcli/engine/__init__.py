"""The convolution engine: pure NumPy, arrays in, arrays out.

- :mod:`.api`: ``convolve``, ``convolve_uint8``, ``sample_centres``, argument checks;
- :mod:`.geometry`: ``Geometry``, the one place for pads, output shapes and band halos;
- :mod:`.cost`: ``CostModel`` (every tuning constant) and ``choose_strategy``;
- :mod:`.decompose`: the one separability rule (``separate``, ``terms``);
- :mod:`.direct`, :mod:`.separable`, :mod:`.fft`: the strategies;
- :mod:`.bank`: ``conv2d``, a filter bank as one matrix product per band;
- :mod:`.pool`: ``pool``, TensorFlow's max and average pooling;
- :mod:`.reader`, :mod:`.bands`, :mod:`.sinks`: the band runner, from a padded
  reader (array or memmap) through a strategy to a sink, on explicit threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .api import ClipStats, convolve, convolve_uint8, sample_centres
    from .bank import LAYOUTS, conv2d
    from .cost import COSTS, STRATEGIES, CostModel, choose_strategy
    from .geometry import PADDINGS, Geometry, output_shape, pad_widths
    from .pool import POOLS, pool
    from .reader import BORDERS

__all__ = [
    "BORDERS",
    "COSTS",
    "LAYOUTS",
    "PADDINGS",
    "POOLS",
    "STRATEGIES",
    "ClipStats",
    "CostModel",
    "Geometry",
    "choose_strategy",
    "conv2d",
    "convolve",
    "convolve_uint8",
    "output_shape",
    "pad_widths",
    "pool",
    "sample_centres",
]

# Each name's module is imported on first use (convcli.lazy): a plain filter never loads
# the filter-bank or pooling code.
__getattr__ = exports(
    __name__,
    {
        **dict.fromkeys(["ClipStats", "convolve", "convolve_uint8", "sample_centres"], ".api"),
        **dict.fromkeys(["LAYOUTS", "conv2d"], ".bank"),
        **dict.fromkeys(["COSTS", "STRATEGIES", "CostModel", "choose_strategy"], ".cost"),
        **dict.fromkeys(["PADDINGS", "Geometry", "output_shape", "pad_widths"], ".geometry"),
        **dict.fromkeys(["POOLS", "pool"], ".pool"),
        "BORDERS": ".reader",
    },
)
