"""``convcli apply``: options in, a planned batch run, a report out."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import ConvcliError, KernelError
from ..kernels import Kernel, prepare
from ..kernels.banks import Bank
from ..steps import Pool
from . import common, signals, stdio
from .cluster import Scheduler, cluster_options, open_executor, scheduler_from
from .common import EXIT_FAILED
from .layer import layer_options, layer_settings
from .params import (
    FilePath,
    KernelSpec,
    border_option,
    color_option,
    kernel_arithmetic_options,
    padding_option,
    range_option,
    reading_limit_options,
    size_option,
)
from .report import BatchReport
from .streams import EXIT_STDOUT_CLOSED, StdoutClosed, discard_stdout


@click.command()
@click.option(
    "-k",
    "--kernel",
    "kernel_specs",
    type=KernelSpec(),
    required=True,
    multiple=True,
    help="A built-in name (sharpen), name:key=value (gaussian:sigma=2), a kernel file "
    "(.txt .csv .mat .json .npy) or an inline matrix ('0,-1,0; -1,5,-1; 0,-1,0'). "
    "Repeat to apply several in order; see 'convcli kernels'. A 4-D filter bank "
    "(.npy, .npz, .safetensors; FILE#NAME for one of several arrays) gives one map per filter.",
)
@padding_option(
    "valid",
    "valid: no padding, output shrinks by d*(k-1). same: pad, output keeps the size. "
    "full: pad d*(k-1) on every side (d: --dilation, 1 by default), output grows by it.",
)
@border_option("What lies outside the image for same/full padding (numpy.pad's names).")
@layer_options()
@kernel_arithmetic_options()
@range_option("How results become 0..255: clip, abs (magnitude, then clip), rescale (min..max).")
@color_option("Filter R, G, B separately; keep alpha.")
@click.option(
    "--depth",
    type=click.Choice(("8", "16")),
    default="8",
    show_default=True,
    help="Bits per sample of PNG/TIFF output (16: grayscale).",
)
@size_option(
    "Resize (after grayscale) to WxH, N for NxN (224, as the tutorial), 224x or x224 "
    "(that width or height, keeping the shape) or 50%. Default: keep the size."
)
@reading_limit_options()
@click.option("-f", "--overwrite", is_flag=True, help="Replace outputs that already exist.")
@click.option(
    "--skip-existing",
    is_flag=True,
    help="Skip inputs whose output already exists (resume an interrupted batch).",
)
@click.option("-r", "--recursive", is_flag=True, help="Descend into sub-folders of folder inputs.")
@click.option(
    "--name",
    "name",
    metavar="TEMPLATE",
    default=None,
    help="Output file name, from {stem} {ext} {dir} {kernel} {padding} {index} {map} "
    "({dir}: the input's folder below the folder or pattern it came from, ending in '/'); "
    "default '{stem}.png' ('{stem}-{map:02d}.png' for several maps). OUTPUT is then a folder.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=None,
    help="Worker processes; 1 runs in-process, 0 every usable CPU. Default: decided from "
    "the inputs' number and sizes: in-process unless workers pay for their start-up.",
)
@cluster_options
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed input.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON document on stdout: options, every file, a summary.",
)
@click.option(
    "--png-compression",
    type=click.IntRange(0, 9),
    default=None,
    metavar="0-9",
    help="zlib level for the PNGs: 0 fastest and largest, 9 smallest and slowest. "
    "Default: zlib's run-length strategy, about as small as level 6 and faster.",
)
@click.option(
    "--quality",
    type=click.IntRange(1, 100),
    default=90,
    show_default=True,
    metavar="1-100",
    help="JPEG quality of .jpg/.jpeg outputs (lossy: prefer PNG for edges and exact values).",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["png", "tif", "webp", "npy", "jpg"], case_sensitive=False),
    default=None,
    help="The format written to stdout when OUTPUT is '-' (default png).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option(
    "--compare",
    is_flag=True,
    help="Also write <output stem>.compare.png: the input as loaded beside the result.",
)
@click.argument("inputs", nargs=-1, required=True, type=FilePath(path_type=Path))
@click.argument("output", type=FilePath())  # a str: a trailing '/' means a folder
def apply(
    kernel_specs: tuple[Kernel | Bank, ...],
    padding: str,
    border: str,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    layout: str,
    bias: tuple[float, ...] | None,
    combine: str | None,
    activation: str | None,
    pool: Pool | None,
    normalize: bool,
    flip: bool,
    scale: float,
    offset: float,
    value_range: str,
    color: bool,
    depth: str,
    size: tuple[int, int] | None,
    max_pixels: int,
    background: tuple[int, int, int],
    overwrite: bool,
    skip_existing: bool,
    recursive: bool,
    name: str | None,
    jobs: int | None,
    scheduler: Scheduler | None,
    scheduler_file: Path | None,
    timeout: float,
    io: str,
    fail_fast: bool,
    as_json: bool,
    png_compression: int | None,
    quality: int,
    out_format: str | None,
    quiet: bool,
    compare: bool,
    inputs: tuple[Path, ...],
    output: str,
) -> None:
    """Filter INPUTS with kernels and write images to OUTPUT.

    OUTPUT's extension picks the format: .png (default), .jpg (--quality),
    .tif, .webp (lossless) or .npy (the raw floating-point result, before any
    clipping). '-' as the only INPUT reads stdin; '-' as OUTPUT writes stdout
    (--format, default png), only once the image is complete.

    A filter bank or --combine maps makes several maps per input: a .npy
    OUTPUT holds them all (H, W, maps); image formats get one file per map in
    the OUTPUT folder ({stem}-{map:02d}.png). The steps run in a fixed order:
    convolution (--stride, --dilation, --padding, --border) -> --bias ->
    --combine -> --activation -> --pool -> --scale/--offset -> --range.

    INPUTS are image files, folders (the images in them; -r descends and
    mirrors sub-folders) or quoted glob patterns ('photos/**/*.jpg'), which
    convcli expands itself. With one input file, OUTPUT is the file to write,
    in the format its extension names (or a folder, if it exists or ends in
    '/'). Otherwise OUTPUT is a folder, created if missing, and each result
    is named after its input: photo.jpg -> photo.png (see --name).

    Existing files are never replaced without --overwrite, an input is never
    written over, and a failed or interrupted run leaves no partial file.

    \b
    Examples:
      convcli apply -k sharpen --padding same in.jpg out.png
      cat in.jpg | convcli apply -k sharpen - - > sharp.png
      convcli apply -k outline --size 224 cat.jpg edges.png
      convcli apply -k blur a.jpg b.png results/
      convcli apply -k sharpen --compare in.jpg out.png   # + out.compare.png
      convcli apply -k gaussian:sigma=2 -p same -b reflect in.jpg soft.png
      convcli apply -k my.mat --range abs --offset 128 in.png edges.png
      convcli apply -k blur -k sharpen --color in.png out.png
      convcli apply -k blur -r photos/ results/
      convcli apply -k blur 'photos/**/*.jpg' --name '{stem}-{kernel}.png' out/
      convcli apply -k sobel-x -k sobel-y --combine magnitude in.jpg edges.png
      convcli apply -k conv1.npy --bias b.npy --activation relu --pool max in.jpg maps/
    """
    from ..batch import PlanError, default_workers, plan, run
    from ..batch.plan import estimate_seconds
    from ..cpus import usable_cpus
    from ..errors import OutputError
    from ..imageio.formats import output_format
    from ..pipeline import Options

    if overwrite and skip_existing:
        raise click.UsageError("--overwrite and --skip-existing cannot be used together")
    piped = stdio.check_usage(
        inputs, output, out_format=out_format, as_json=as_json, compare=compare,
        recursive=recursive, name=name,
    )  # fmt: skip
    ctx = click.get_current_context()
    jobs_given = ctx.get_parameter_source("jobs") is not click.core.ParameterSource.DEFAULT
    scheduler = scheduler_from(ctx, scheduler, scheduler_file, jobs_given=jobs_given)
    if (normalize or flip) and any(isinstance(k, Bank) for k in kernel_specs):
        raise click.UsageError(
            f"--{'normalize' if normalize else 'flip'} changes 2-D kernels; a filter bank is "
            "applied as stored (flip one with numpy: w[::-1, ::-1] for hwio)"
        )
    try:
        chain = tuple(
            k if isinstance(k, Bank) else prepare(k, normalize=normalize, flip=flip)
            for k in kernel_specs
        )
    except KernelError as exc:
        raise click.BadParameter(str(exc), param_hint="'--normalize'") from None
    layer = layer_settings(locals())
    channels = _bank_channels(chain, layer["layout"])
    if channels == 1 and color:
        raise click.UsageError("the filter bank reads gray images (C_in=1); drop --color")
    if isinstance(size, tuple) and size[0] * size[1] > max_pixels:
        raise click.BadParameter(
            f"{size[0]}x{size[1]} is more than --max-pixels ({max_pixels:,})",
            param_hint="'-s' / '--size'",
        )
    try:
        options = Options.build(
            chain[0],
            then=chain[1:],
            padding=padding.lower(),
            border=border.lower(),
            **layer,
            scale=scale,
            offset=offset,
            size=size,
            max_pixels=max_pixels,
            background=background,
            color=color or channels == 3,
            overwrite=overwrite,
            compare=compare,
            output_range=value_range.lower(),
            depth=int(depth),
            png_compression=png_compression,
            quality=quality,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if piped:
        stdio.run(inputs[0], output, options, out_format=out_format or "png", quiet=quiet)
        return
    if compare and options.maps > 1:
        raise click.UsageError(
            f"--compare shows one result beside its input; these options make {options.maps} "
            "maps (see them side by side with 'convcli gallery')"
        )
    try:
        batch = plan(
            inputs,
            output,
            options,
            recursive=recursive,
            name=name,
            skip_existing=skip_existing,
        )
    except PlanError as exc:
        raise click.UsageError(str(exc)) from None
    colour_maps = options.maps > 1 and options.read.color and options.channels is None
    for job in batch.jobs:
        try:
            fmt = output_format(job.target, depth=options.write.depth, color=options.read.color)
        except OutputError as exc:
            raise click.UsageError(str(exc)) from None
        if fmt == "NPY" and colour_maps:  # (H, W, maps, 3): neither an image nor (H, W, maps)
            raise click.UsageError(
                f"{job.target}: a .npy holds maps as (H, W, maps), one channel each; --color "
                "makes a colour image of each map: write them to a folder, or drop --color"
            )
    for kernel in options.kernels:
        for warning in () if quiet else kernel.warnings:
            common.say("warning", str(warning))
    pending = len(batch.jobs)
    if jobs is None:  # from what the plan knows: do workers pay for this batch?
        workers = default_workers(pending, estimate_seconds(batch.jobs))
    else:  # -j 0: every usable CPU, as make and xargs users expect
        workers = max(1, min(jobs or usable_cpus(), pending))
    settings = {
        **options.describe(),
        "skip_existing": skip_existing,
        "recursive": recursive,
        "name": name,
        "jobs": None if scheduler else workers,
        "scheduler": None if scheduler is None else str(scheduler),
        "io": None if scheduler is None else io.lower(),
        "fail_fast": fail_fast,
        "inputs": [str(i) for i in inputs],
        "output": output,
    }
    status = 0  # 128 + the signal, once interrupted
    common.end_of_start_up()
    cluster = scheduler if batch.jobs else None  # nothing to run: no need to connect
    with open_executor(cluster, timeout=timeout, io=io, quiet_logs=not common.debug) as executor:
        report = BatchReport(batch.total, quiet=quiet, as_json=as_json, settings=settings)
        with report:
            results = run(
                batch,
                options,
                jobs=workers,
                fail_fast=fail_fast,
                executor=executor,
                on_start=report.started,
            )
            try:
                for result in results:
                    report.add(result)
            except KeyboardInterrupt as interrupt:  # Ctrl-C, SIGTERM, SIGHUP
                report.interrupted = signals.describe(interrupt)
                status = signals.exit_status(interrupt)
            except StdoutClosed:  # `| head`: stop as for Ctrl-C
                pass
            except ConvcliError as exc:  # the run itself broke (workers that keep dying)
                report.abort(exc)
            finally:  # workers stopped, temporary files swept (run is a generator)
                getattr(results, "close", lambda: None)()
            report.retried = getattr(executor, "retried", 0)
    report.finish(options)
    if report.stdout_closed:
        discard_stdout()
        sys.exit(EXIT_STDOUT_CLOSED)
    if report.interrupted:
        sys.exit(status)
    if report.counts["failed"] or report.aborted:
        sys.exit(EXIT_FAILED)


def _bank_channels(chain: tuple[Kernel | Bank, ...], layout: str) -> int | None:
    """The input channels a filter bank in the chain reads (1 or 3), or None.

    A bank whose shape does not fit the layout is a usage error naming the shape.
    """
    for item in chain:
        if isinstance(item, Bank):
            try:
                return item.channels(layout)
            except KernelError as exc:
                raise click.BadParameter(str(exc), param_hint="'-k' / '--kernel'") from None
    return None
