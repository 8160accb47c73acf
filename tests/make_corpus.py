"""Build convcli's test corpus of hostile and awkward inputs, made here, never downloaded.

    python tests/make_corpus.py DIR      # writes every case into DIR and lists them

Each case is a file name, a function that writes it, and what convcli must
do with it: the exact error reason (``reason``, without the ``<path>: ``
prefix) or success with the expected output size and warnings. The tests in
``test_corpus.py`` run every case through the CLI; the fuzz tests start from
the valid ones.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

FORMATS = "PNG, JPEG, GIF, BMP, TIFF, WebP or PPM"
NOT_AN_IMAGE = f"not a supported image ({FORMATS})"


@dataclass(frozen=True)
class Case:
    name: str  # the file name in the corpus
    make: Callable[[Path], None]  # writes the file (or folder, FIFO, link) at that path
    reason: str | None = None  # the exact error reason, or None when it must succeed
    size: tuple[int, int] | None = None  # (width, height) written with --padding same
    warnings: tuple[str, ...] = ()  # exact warnings, in order
    reason_prefix: bool = False  # reason ends in Pillow's own words: compare the start only
    posix_only: bool = False  # FIFOs and symlinks
    through_cli: bool = True  # False: a folder input is the batch planner's business
    extra: tuple[str, ...] = field(default=())  # more CLI options for this case


# --- building blocks --------------------------------------------------------------


def _gradient(width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return ((x * 7 + y * 13) % 256).astype(np.uint8)


def _rgb(width: int = 24, height: int = 16) -> Image.Image:
    g = _gradient(width, height)
    return Image.fromarray(np.dstack([g, 255 - g, g // 2]), "RGB")


def _png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _jpeg_bytes(image: Image.Image, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **kwargs)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, idat: bytes | None, *, ihdr_crc: int | None = None) -> bytes:
    """A hand-made 8-bit grayscale PNG; ``idat=None`` gives a header-only file."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    head = _chunk(b"IHDR", ihdr)
    if ihdr_crc is not None:
        head = head[:-4] + struct.pack(">I", ihdr_crc)
    body = b"" if idat is None else _chunk(b"IDAT", idat)
    return b"\x89PNG\r\n\x1a\n" + head + body + _chunk(b"IEND", b"")


def _bad_idat_crc(data: bytes) -> bytes:
    """Flip the image data's checksum: the pixels still decode, the file is still corrupt."""
    start = data.index(b"IDAT")
    length = int.from_bytes(data[start - 4 : start], "big")
    end = start + 4 + length
    return data[:end] + bytes(b ^ 0xFF for b in data[end : end + 4]) + data[end + 4 :]


def _write(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _save(image: Image.Image | Callable[[], Image.Image], **kwargs) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        (image() if callable(image) else image).save(path, **kwargs)

    return make


def _gif_frame_bomb(second_frame_only: bool) -> bytes:
    """A 4x4 GIF one of whose frames claims to be 65535x65535 (Pillow's test idea)."""
    out = io.BytesIO()
    Image.fromarray(_gradient(4, 4), "L").convert("P").save(out, "GIF")
    data = out.getvalue()
    flags = data[10]
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while data[pos] == 0x21:  # skip extensions: introducer, label, sub-blocks
        pos += 2
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    head, frame = data[:pos], data[pos:-1]  # frame: descriptor + LZW data; -1: trailer
    assert frame[0] == 0x2C, "expected an image descriptor"
    huge = frame[:5] + struct.pack("<HH", 65535, 65535) + frame[9:]
    frames = frame + huge if second_frame_only else huge
    return head + frames + b"\x3b"


def _tiff(entries: dict[int, int], data: bytes = b"\x80") -> bytes:
    """A little-endian TIFF with one IFD of SHORT/LONG tags and one strip of ``data``."""
    count = len(entries) + 2  # + StripOffsets and StripByteCounts
    offset = 8 + 2 + 12 * count + 4
    tags = {**entries, 273: offset, 279: len(data)}
    ifd = struct.pack("<H", count)
    for tag in sorted(tags):
        ifd += struct.pack("<HHII", tag, 4, 1, tags[tag])  # type 4: LONG
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00" * 4 + data


# Width, height, bits, no compression, min-is-black, rows per strip ... and a
# SamplesPerPixel no decoder can hold: Pillow logs an error (on stderr, unless
# the CLI silences its logger) before refusing the header.
_TIFF_SAMPLES_BOMB = _tiff({256: 1, 257: 1, 258: 8, 259: 1, 262: 1, 277: 46083, 278: 1})


def _animated_gif(path: Path) -> None:
    frames = [Image.fromarray(_gradient(12, 8) // (i + 1), "L").convert("P") for i in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)


def _exif_jpeg(orientation: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        _rgb(24, 16).save(path, exif=exif, quality=95)

    return make


def _float_tiff(values: list[list[float]]) -> Callable[[Path], None]:
    return _save(Image.fromarray(np.array(values, dtype=np.float32), "F"))


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _symlink_loop(path: Path) -> None:
    path.symlink_to(path.name)  # points at itself


def _dangling(path: Path) -> None:
    path.symlink_to("no-such-target.png")


def _folder(path: Path) -> None:
    path.mkdir()


_VALID_PNG = _png_bytes(_rgb())
_VALID_JPEG = _jpeg_bytes(_rgb(64, 48), quality=90)
_BROKEN_ZLIB = _png(8, 8, b"\x78\x9c" + b"\xff" * 40)
_EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
    b"newpath 0 0 moveto 10 10 lineto stroke\nshowpage\n%%EOF\n"
)


def _modes() -> list[Case]:
    """Every mode Pillow writes to a file, in a format that keeps it."""
    rgb = _rgb()
    g = _gradient(24, 16)
    alpha = Image.fromarray(np.where(g > 100, 255, 0).astype(np.uint8), "L")
    rgba = rgb.copy()
    rgba.putalpha(alpha)
    la = Image.merge("LA", (rgb.convert("L"), alpha))
    sixteen = Image.fromarray(g.astype(np.uint16) * 257)
    wide = Image.fromarray(g.astype(np.int32) * 257)
    palette = rgb.convert("P")
    transparent_palette = rgb.convert("P")
    transparent_palette.info["transparency"] = 0
    cases = [
        ("mode-1.png", rgb.convert("1"), {}),
        ("mode-L.png", rgb.convert("L"), {}),
        ("mode-LA.png", la, {}),
        ("mode-P.png", palette, {}),
        ("mode-P-transparent.png", transparent_palette, {"transparency": 0}),
        ("mode-RGB.png", rgb, {}),
        ("mode-RGBA.png", rgba, {}),
        ("mode-RGBA.webp", rgba, {"lossless": True}),
        ("mode-CMYK.tif", rgb.convert("CMYK"), {}),
        ("mode-CMYK.jpg", rgb.convert("CMYK"), {}),
        ("mode-YCbCr.tif", rgb.convert("YCbCr"), {}),
        ("mode-LAB.tif", rgb.convert("LAB"), {}),
        ("mode-I;16.png", sixteen, {}),
        ("mode-I;16B.tif", Image.fromarray(g.astype(">u2") * 257), {}),
        ("mode-I.tif", wide, {}),
        ("mode-F.tif", Image.fromarray(g.astype(np.float32), "F"), {}),
        ("mode-P.gif", palette, {}),
        ("mode-1.bmp", rgb.convert("1"), {}),
        ("mode-RGB.ppm", rgb, {}),
    ]
    return [
        Case(name.replace(";", "_"), _save(image, **kwargs), size=(24, 16))
        for name, image, kwargs in cases
    ]


CASES: list[Case] = [
    # hostile: each is one line, exit 1, nothing written
    Case("zero-bytes.png", _write(b""), "empty file (0 bytes)"),
    Case("text.png", _write(b"this is not a picture\n"), NOT_AN_IMAGE),
    Case(
        "truncated.jpg",
        _write(_VALID_JPEG[: len(_VALID_JPEG) // 2]),
        "truncated image data (image file is truncated",
        reason_prefix=True,
    ),
    Case(
        "truncated.png",
        _write(_VALID_PNG[: len(_VALID_PNG) - 40]),
        "truncated image data (",
        reason_prefix=True,
    ),
    Case(
        "bad-crc.png",
        _write(_png(8, 8, zlib.compress(bytes(8 * 9)), ihdr_crc=0xDEADBEEF)),
        "corrupt PNG: its header does not decode",
    ),
    Case(
        "bad-data-crc.png",
        _write(_bad_idat_crc(_VALID_PNG)),
        "corrupt PNG: bad checksum in its 'IDAT' chunk",
    ),
    Case(
        "tiff-samples-bomb.tif",
        _write(_TIFF_SAMPLES_BOMB),
        "corrupt TIFF: its header does not decode",
    ),
    Case("broken-zlib.png", _write(_BROKEN_ZLIB), "corrupt image data (", reason_prefix=True),
    Case(
        "header-only-bomb.png",
        _write(_png(100_000, 100_000, None)),
        "image has 10,000,000,000 pixels, more than the limit of 89,478,485 "
        "(--max-pixels); possibly a decompression bomb",
    ),
    Case(
        "header-over-max-pixels.png",
        _write(_png(10_000, 10_000, None)),
        "image is 10000x10000 = 100,000,000 pixels, more than the limit of 89,478,485 "
        "(--max-pixels); possibly a decompression bomb",
    ),
    Case(
        "gif-frame-bomb.gif",
        _write(_gif_frame_bomb(second_frame_only=False)),
        "image has 4,294,836,225 pixels, more than the limit of 89,478,485 "
        "(--max-pixels); possibly a decompression bomb",
    ),
    Case(
        "bad-magic.png",
        _write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
        "corrupt PNG: its header does not decode",
    ),
    Case(
        "eps-named.png",
        _write(_EPS),
        "is PostScript (EPS/PS), which convcli never opens: it would run Ghostscript",
    ),
    Case("folder.jpg", _folder, "is a folder, not an image file", through_cli=False),
    Case("fifo.png", _fifo, "is a FIFO (named pipe), not a regular file", posix_only=True),
    Case("symlink-loop.png", _symlink_loop, "symbolic link loop", posix_only=True),
    Case(
        "dangling-link.png",
        _dangling,
        "broken symbolic link (to 'no-such-target.png')",
        posix_only=True,
    ),
    Case(
        "float-nan.tif",
        _float_tiff([[0.0, float("nan")], [1.0, 2.0]]),
        "image has NaN or infinite pixel values",
    ),
    Case(
        "float-inf.tif",
        _float_tiff([[0.0, float("inf")], [1.0, 2.0]]),
        "image has NaN or infinite pixel values",
    ),
    # awkward but valid: written, maybe with a warning
    Case("one-pixel.png", _save(Image.new("L", (1, 1), 200)), size=(1, 1)),
    Case("three-by-one.png", _save(Image.new("L", (3, 1), 90)), size=(3, 1)),
    Case(
        "wide-10000x1.png",
        _save(lambda: Image.fromarray(_gradient(10_000, 1), "L")),
        size=(10_000, 1),
    ),
    Case("rgb.jpg", _write(_VALID_JPEG), size=(64, 48)),
    Case("exif-rotated.jpg", _exif_jpeg(6), size=(16, 24)),
    Case(
        "exif-invalid.jpg",
        _exif_jpeg(9),
        size=(24, 16),
        warnings=("invalid EXIF orientation 9 ignored",),
    ),
    Case(
        "animated.gif",
        _animated_gif,
        size=(12, 8),
        warnings=("has several frames; only the first is used",),
    ),
    Case(
        "gif-second-frame-bomb.gif",
        _write(_gif_frame_bomb(second_frame_only=True)),
        size=(4, 4),
        warnings=("has several frames; only the first is used",),
    ),
    Case(
        "float-out-of-range.tif",
        _float_tiff([[-5.0, 0.4], [127.6, 300.0]]),
        size=(2, 2),
        warnings=("float pixel values from -5 to 300 clipped to 0..255",),
    ),
    Case("ünïcødé 画像.png", _write(_VALID_PNG), size=(24, 16)),
    Case("  spaces  in   name .png", _write(_VALID_PNG), size=(24, 16)),
    *_modes(),
]


def _small(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


#: Small valid files the fuzzers mutate, one or two per allowed format.
SEEDS: dict[str, bytes] = {
    "png": _small(_rgb(8, 6), "PNG"),
    "png-rgba": _small(_rgb(8, 6).convert("RGBA"), "PNG"),
    "png-16bit": _small(Image.fromarray(_gradient(8, 6).astype(np.uint16) * 257), "PNG"),
    "jpeg": _small(_rgb(16, 8), "JPEG", quality=80),
    "gif": _gif_frame_bomb(second_frame_only=True),
    "bmp": _small(_rgb(8, 6), "BMP"),
    "tiff": _small(_rgb(8, 6), "TIFF"),
    "tiff-float": _small(Image.fromarray(_gradient(8, 6).astype(np.float32)), "TIFF"),
    "webp": _small(_rgb(8, 6), "WEBP", lossless=True),
    "ppm": _small(_rgb(8, 6), "PPM"),
}


def build(folder: Path, *, posix: bool = hasattr(os, "mkfifo")) -> list[Case]:
    """Write every case into ``folder``; returns the cases written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for case in CASES:
        if case.posix_only and not posix:
            continue
        case.make(folder / case.name)
        written.append(case)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/make_corpus.py DIR")
    for built in build(Path(sys.argv[1])):
        print(f"{'error' if built.reason else 'ok':5}  {built.name}")
