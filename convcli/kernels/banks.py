"""Filter banks: a Conv2D layer's 4-D weights, from ``.npy``, ``.npz`` or ``.safetensors``.

A trained network's first layer is what people want to see at work on a
photo. Its weights come as one 4-D array: ``(kh, kw, C_in, C_out)`` from
Keras's ``get_weights()`` or TensorFlow (``hwio``), ``(C_out, C_in, kh, kw)``
from PyTorch (``oihw``). A file holding several arrays (an ``.npz``, a whole
model's ``.safetensors``) takes ``FILE#NAME``; without ``#NAME`` the error
lists the names. Only the header and the named array are read, so a large
model file costs the size of one layer.

Nothing is ever unpickled: ``.npy``/``.npz`` are read with
``allow_pickle=False`` and pickled formats (``.pt``, ``.pth``, ``.pkl``,
``.h5``...) are refused with a one-line recipe to export the layer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine.bank import LAYOUTS, to_hwio
from ..errors import KernelError
from .model import MAX_VALUE, Kernel

__all__ = [
    "BANK_SUFFIXES",
    "LAYOUTS",
    "MAX_BANK_VALUES",
    "PICKLED_SUFFIXES",
    "Bank",
    "load_array",
    "load_bank",
    "names_bank",
    "parse_filter",
    "parse_vector",
]

BANK_SUFFIXES = (".npy", ".npz", ".safetensors")
MAX_BANK_VALUES = 1 << 24  # 16M weights (64 MiB of float32): far beyond any first layer
_RECIPES = {
    ".pt": "python -c \"import torch, numpy; numpy.save('conv1.npy', "
    "torch.load('FILE', weights_only=True)['conv1.weight'].numpy())\" (then --layout oihw)",
    ".h5": "python -c \"import keras, numpy; numpy.save('conv1.npy', "
    "keras.models.load_model('FILE').layers[0].get_weights()[0])\"",
    ".pkl": "load it where you trust it and numpy.save('conv1.npy', weights)",
}
PICKLED_SUFFIXES = {
    ".pt": ".pt", ".pth": ".pt", ".bin": ".pt", ".ckpt": ".pt",
    ".h5": ".h5", ".hdf5": ".h5", ".keras": ".h5",
    ".pkl": ".pkl", ".pickle": ".pkl", ".joblib": ".pkl",
}  # fmt: skip


@dataclass(frozen=True, eq=False)
class Bank:
    """A filter bank as stored (read-only, any layout), with its name and origin."""

    weights: np.ndarray
    name: str
    source: str

    def __post_init__(self) -> None:
        self.weights.flags.writeable = False

    def hwio(self, layout: str = "hwio") -> np.ndarray:
        """The weights as ``(kh, kw, C_in, C_out)``, checked for convcli's images:
        ``C_in`` 1 (read as gray) or 3 (RGB). :class:`KernelError` otherwise."""
        if layout not in LAYOUTS:
            raise KernelError(f"unknown layout {layout!r}; use hwio or oihw", self.name)
        shape = self.weights.shape
        bank = to_hwio(self.weights, layout)
        if bank.shape[2] not in (1, 3):
            other = "oihw" if layout == "hwio" else "hwio"
            axes = "(kh, kw, C_in, C_out)" if layout == "hwio" else "(C_out, C_in, kh, kw)"
            raise KernelError(
                f"shape {shape} read as {layout} {axes} has C_in={bank.shape[2]}; images "
                f"have 1 (gray) or 3 (RGB) channels (is it --layout {other}?)",
                self.name,
            )
        return bank

    def maps(self, layout: str = "hwio") -> int:
        """How many output maps the bank makes (``C_out``)."""
        return int(self.hwio(layout).shape[3])

    def channels(self, layout: str = "hwio") -> int:
        return int(self.hwio(layout).shape[2])


def parse_filter(spec: str) -> Kernel | Bank:
    """A ``--kernel`` spec: a bank file (4-D, or ``FILE#NAME``), else :func:`parse_kernel`."""
    from .syntax import parse_kernel

    return load_bank(spec) if names_bank(spec) else parse_kernel(spec)


def names_bank(spec: str) -> bool:
    """Whether a ``--kernel`` spec names a filter bank (or a pickle, refused as one):
    an ``.npz`` or ``.safetensors`` file, ``FILE#NAME``, or a 4-D ``.npy``."""
    path, _, member = spec.partition("#")
    suffix = Path(path).suffix.lower()
    if suffix in PICKLED_SUFFIXES:
        return True
    return suffix in BANK_SUFFIXES and (bool(member) or suffix != ".npy" or _npy_ndim(path) == 4)


def load_bank(spec: str) -> Bank:
    """``FILE`` or ``FILE#NAME`` holding one 4-D array of finite real numbers."""
    weights, name = load_array(spec, what="filter bank")
    if weights.ndim != 4:
        raise KernelError(
            f"holds a {weights.ndim}-D array of shape {weights.shape}; a filter bank is 4-D "
            "(kh, kw, C_in, C_out) or (C_out, C_in, kh, kw)",
            name,
        )
    return Bank(weights, Path(name.partition("#")[0]).name + _member(name), name)


def parse_vector(spec: str) -> np.ndarray:
    """``--bias``: comma-separated numbers, or ``FILE[#NAME]`` holding a 1-D array."""
    from .values import parse_number

    path = spec.partition("#")[0]
    if Path(path).suffix.lower() in (*BANK_SUFFIXES, *PICKLED_SUFFIXES) or os.path.exists(path):
        values, name = load_array(spec, what="bias")
        if values.ndim != 1:
            raise KernelError(f"holds shape {values.shape}; a bias is 1-D (one per map)", name)
        return values.astype(np.float64)
    numbers = [parse_number(part.strip()) for part in spec.split(",")]
    if not numbers or any(n is None or not np.isfinite(n) for n in numbers):
        raise KernelError(f"{spec!r} is not a list of numbers such as 0.1,-0.2 nor a file")
    return np.array(numbers, dtype=np.float64)


def load_array(spec: str, *, what: str) -> tuple[np.ndarray, str]:
    """The array ``FILE[#NAME]`` names, and how to name it in messages."""
    path, hash_, member = spec.partition("#")
    suffix = Path(path).suffix.lower()
    if suffix in PICKLED_SUFFIXES:
        raise _pickled(path)
    if suffix not in BANK_SUFFIXES:
        raise KernelError(f"a {what} file is .npy, .npz or .safetensors", path)
    if not os.path.isfile(path):
        raise KernelError("no such file" if not os.path.exists(path) else "not a file", path)
    if suffix == ".npy":
        if hash_:
            raise KernelError("a .npy file holds one array; drop the #NAME", path)
        array = _read_npy(path)
    elif suffix == ".npz":
        array = _read_npz(path, member)
    else:
        array = _read_safetensors(path, member)
    shown = f"{path}#{member}" if member else path
    if array.size == 0:
        raise KernelError(f"holds an empty array of shape {array.shape}", shown)
    if array.size > MAX_BANK_VALUES:
        raise KernelError(f"holds {array.size:,} values; the limit is {MAX_BANK_VALUES:,}", shown)
    if array.dtype.kind not in "iuf":
        raise KernelError(f"holds {array.dtype} values; weights are real numbers", shown)
    dtype = np.float32 if array.dtype.kind == "f" and array.dtype.itemsize <= 4 else np.float64
    values = np.array(array, dtype=dtype)
    if not np.isfinite(values).all() or np.abs(values).max() > MAX_VALUE:
        raise KernelError(f"holds NaN, infinite or huge (> {MAX_VALUE:g}) values", shown)
    return values, shown


def _member(name: str) -> str:
    member = name.partition("#")[2]
    return f"#{member}" if member else ""


def _pickled(path: str) -> KernelError:
    suffix = Path(path).suffix.lower()
    recipe = _RECIPES[PICKLED_SUFFIXES[suffix]].replace("FILE", Path(path).name)
    return KernelError(
        f"{suffix} files are pickles, which convcli never loads; export the layer to "
        f".npy or .safetensors first, e.g. {recipe}",
        path,
    )


def _npy_ndim(path: str) -> int | None:
    """The ``ndim`` a ``.npy`` header declares (None if unreadable: the kernel reader says why)."""
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            header = (
                np.lib.format.read_array_header_1_0(handle)
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0(handle)
            )
    except (OSError, ValueError, SyntaxError, EOFError, TypeError):
        return None
    return len(header[0])


def _read_npy(path: str) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise KernelError(f"not a readable .npy array: {exc}", path) from None


def _read_npz(path: str, member: str) -> np.ndarray:
    import zipfile  # here, not at start-up: ~10 ms with shutil, bz2 and lzma

    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            chosen = _choose(names, member, path)
            return archive[chosen]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise KernelError(f"not a readable .npz archive: {exc}", path) from None


def _read_safetensors(path: str, member: str) -> np.ndarray:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="numpy") as handle:
            chosen = _choose(list(handle.keys()), member, path)
            return handle.get_tensor(chosen)
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise KernelError(f"not a readable .safetensors file: {exc}", path) from None


def _choose(names: list[str], member: str, path: str) -> str:
    """The array ``#member`` names; the only one if there is one; else an error listing them."""
    if member:
        if member not in names:
            raise KernelError(f"has no array named {member!r}; it has {_listing(names)}", path)
        return member
    if len(names) == 1:
        return names[0]
    raise KernelError(f"holds {len(names)} arrays; pick one with #NAME: {_listing(names)}", path)


def _listing(names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:20])
    return shown + (f" (and {len(names) - 20} more)" if len(names) > 20 else "") or "none"
