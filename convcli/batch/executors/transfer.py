"""Where a job's bytes travel when it runs on another machine: ``--io shared`` or ``--io client``.

A cluster's workers may or may not see the client's files. A transfer is
the part of a remote executor that knows this; the executor only moves its
payloads and replies. Each transfer has three steps:

- ``outbound(options, job)`` on the client: what to send for the job (or a
  :class:`Ready` result when there is nothing to send);
- ``on_worker(fn, options, payload, scratch, where)`` on the worker: run
  ``fn(options, job)`` there and return a reply;
- ``inbound(options, job, reply, again)`` on the client: the job's
  :class:`Result`, with the client's own paths in it, so that reports read
  as with ``-j 1``. ``again``: the job ran more than once (a worker died on
  it), so a killed attempt's temporary file may lie beside the output.

:class:`SharedFiles` (``--io shared``): workers read the inputs and write the
outputs themselves, on a filesystem they share with the client; paths are
made absolute on the client. A worker that cannot see an input (or the
output's folder) fails that file, with a hint to use ``--io client``.

:class:`ShippedFiles` (``--io client``): the client reads each input (with
the same file checks as a local run) and ships its bytes; the worker runs
the job in a private folder of its scratch space and sends the encoded
outputs back; the client writes them atomically, never over a file that
appeared meanwhile (unless ``--overwrite``). The outputs are the very bytes
the pipeline wrote on the worker, so they match a local run's.

No Dask here: this module runs on both sides and is tested without a cluster.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from ...errors import ConvcliError
from ...imageio.atomic import sweep_temporaries, write_atomically
from ...imageio.targets import compare_path, exists_error
from ...options import Options
from ..jobs import Result
from ..plan import Job

__all__ = ["TRANSFERS", "Delivery", "Ready", "SharedFiles", "Shipment", "ShippedFiles", "Transfer"]

Work = Callable[[Options, Job], Result]
HINT = "use --io client to send the files to the workers"


@dataclass(frozen=True)
class Ready:
    """A job's result known on the client: nothing needs to be sent."""

    result: Result


@dataclass(frozen=True)
class Shipment:
    """An input's bytes, on their way to a worker (``--io client``)."""

    job: Job
    data: bytes


@dataclass(frozen=True)
class Delivery:
    """What a worker sends back under ``--io client``: the result and the files it wrote."""

    result: Result
    source: str  # the paths the job had on the worker, to map back to the client's
    target: str
    outputs: tuple[tuple[str, bytes], ...] = ()  # (file name, bytes) in the order written


class Transfer(Protocol):
    name: str

    def outbound(self, options: Options, job: Job) -> Any: ...

    @staticmethod
    def on_worker(fn: Work, options: Options, payload: Any, scratch: str, where: str) -> Any: ...

    def inbound(self, options: Options, job: Job, reply: Any, again: bool) -> Result: ...


class SharedFiles:
    """``--io shared``: the workers see the client's files under the same absolute paths."""

    name = "shared"

    def outbound(self, options: Options, job: Job) -> Job:
        return replace(job, source=Path(os.path.abspath(job.source)), target=_absolute(job.target))

    @staticmethod
    def on_worker(fn: Work, options: Options, payload: Job, scratch: str, where: str) -> Result:
        if not os.path.lexists(payload.source):
            reason = f"not found on the Dask worker {where} (is its filesystem shared? {HINT})"
            return Result.of_job(payload, "failed", ConvcliError(reason, payload.source))
        folder = payload.target.parent
        if not folder.is_dir():
            reason = (
                f"output folder {str(folder)!r} not found on the Dask worker {where} "
                f"(is its filesystem shared? {HINT})"
            )
            return Result.of_job(payload, "failed", ConvcliError(reason, payload.target))
        if not options.write.overwrite and os.path.lexists(payload.target):
            return SharedFiles._again(fn, options, payload, scratch, where)
        return fn(options, payload)

    @staticmethod
    def _again(fn: Work, options: Options, job: Job, scratch: str, where: str) -> Result:
        """A job whose output exists though the plan saw none: an earlier attempt wrote it.

        That happens when a worker dies after writing an output but before
        reporting it, and the scheduler runs its task again. The job is run
        into scratch space and each output compared: one with the very bytes
        this job writes is accepted; a missing one (``--compare``'s) is
        written now; a different one is refused as ``-j 1`` would refuse it.
        """
        reply = ShippedFiles.on_worker(fn, options, Shipment(job, b""), scratch, where, job.source)
        result = _with_paths(reply.result, job, reply.source, reply.target)
        for name, data in reply.outputs:
            path = job.target.with_name(name)
            try:
                if path.read_bytes() != data:
                    return Result.of_job(job, "failed", exists_error(path))
            except FileNotFoundError:
                try:
                    write_atomically(path, _writer(data), overwrite=False)
                except ConvcliError as exc:
                    return Result.of_job(job, "failed", exc)
            except OSError as exc:
                error = ConvcliError(f"cannot read: {exc.strerror or exc}", path)
                return Result.of_job(job, "failed", error)
        return result

    def inbound(self, options: Options, job: Job, reply: Result, again: bool) -> Result:
        if again:  # the attempt that finished renamed its file into place; the rest are dead
            _sweep(job)
        return _with_paths(reply, job, str(os.path.abspath(job.source)), str(_absolute(job.target)))


class ShippedFiles:
    """``--io client``: the bytes travel through the client; workers need no shared storage."""

    name = "client"

    def outbound(self, options: Options, job: Job) -> Shipment | Ready:
        from ...imageio.read import read_bytes  # load_image's checks (imports Pillow)

        try:
            return Shipment(job, read_bytes(job.source))
        except ConvcliError as exc:
            return Ready(Result.of_job(job, "failed", exc))

    @staticmethod
    def on_worker(
        fn: Work,
        options: Options,
        payload: Shipment,
        scratch: str,
        where: str,
        shared: Path | None = None,
    ) -> Delivery:
        """Run the job in a private folder of ``scratch``: its input from the
        payload's bytes (or, ``shared``, read where it lies), its outputs read back."""
        job = payload.job
        folder = Path(tempfile.mkdtemp(prefix="convcli-", dir=scratch))
        try:
            source = shared if shared is not None else folder / "in" / (job.source.name or "input")
            target = folder / "out" / job.target.name
            target.parent.mkdir()
            if shared is None:
                source.parent.mkdir()
                source.write_bytes(payload.data)
            result = fn(options, replace(job, source=source, target=target))
            outputs = []
            if result.ok:
                written = [target, compare_path(target)] if options.write.compare else [target]
                outputs = [(path.name, path.read_bytes()) for path in written]
            return Delivery(result, str(source), str(target), tuple(outputs))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def inbound(self, options: Options, job: Job, reply: Delivery, again: bool) -> Result:
        result = _with_paths(reply.result, job, reply.source, reply.target)
        folder = job.target.parent
        for name, data in reply.outputs:
            path = job.target if name == Path(reply.target).name else folder / name
            try:
                write_atomically(path, _writer(data), overwrite=options.write.overwrite)
            except ConvcliError as exc:
                return Result.of_job(job, "failed", exc)
        return result


TRANSFERS: dict[str, type[SharedFiles] | type[ShippedFiles]] = {
    "shared": SharedFiles,
    "client": ShippedFiles,
}


def _writer(data: bytes) -> Callable[[BinaryIO], None]:
    def write(handle: BinaryIO) -> None:
        handle.write(data)

    return write


def _sweep(job: Job) -> None:
    """Delete what killed writers of the job's outputs left beside them."""
    for path in (job.target, compare_path(job.target)):
        sweep_temporaries(path)


def _absolute(path: Path) -> Path:
    """``path`` made absolute without resolving symlinks (a worker sees the same links)."""
    return Path(os.path.abspath(path))


def _with_paths(result: Result, job: Job, source: str, target: str) -> Result:
    """``result`` as the client tells it: the worker's paths replaced by the job's own."""
    mapping = {source: job.source, target: job.target}

    def back(path: Path | str | None) -> Path | None:
        if path is None:
            return None
        return mapping.get(str(path), Path(path))

    error = result.error
    if error is not None and error.path in mapping:
        error.path = str(mapping[error.path])
    reason = result.reason.replace(source, str(job.source)).replace(target, str(job.target))
    return replace(
        result,
        source=job.source,
        target=back(result.target),
        path=back(result.path),
        reason=reason,
        error=error,
    )
