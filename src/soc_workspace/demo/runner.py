"""Make the planned files and put them into a store (in parallel) or a local folder."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..config import Settings, stage_argument
from ..missions import bucket_for, key_for, parse_filename
from .plan import Job, plan
from .target import check_test_store

log = logging.getLogger(__name__)

DEFAULT_START = date(2025, 6, 1)
UPLOAD_THREADS = 8
# At most this many generated files wait for upload, so memory stays bounded.
MAX_PENDING_UPLOADS = 32


@dataclass
class DemoReport:
    """What :func:`write_demo_data` wrote: ``objects`` as (bucket, key, size in bytes)."""

    objects: list[tuple[str, str, int]] = field(default_factory=list)
    seconds: float = 0.0
    target: str = ""  # the endpoint or folder written to
    catalogued: list[str] = field(default_factory=list)  # buckets whose index was built

    @property
    def bytes(self) -> int:
        return sum(size for _, _, size in self.objects)

    @property
    def files(self) -> int:
        return len(self.objects)

    def buckets(self) -> dict[str, tuple[int, int]]:
        """Bucket -> (files, bytes)."""
        out: dict[str, tuple[int, int]] = {}
        for bucket, _, size in self.objects:
            files, total = out.get(bucket, (0, 0))
            out[bucket] = (files + 1, total + size)
        return dict(sorted(out.items()))

    def summary(self) -> str:
        lines = [
            f"{self.files} files, {self.bytes / 1e6:.1f} MB in {self.seconds:.1f} s "
            f"-> {self.target}"
        ]
        for bucket, (files, size) in self.buckets().items():
            lines.append(f"  {bucket}: {files} files, {size / 1e6:.1f} MB")
        if self.catalogued:
            lines.append(f"  catalog built for {len(self.catalogued)} bucket(s)")
        return "\n".join(lines)


def write_demo_data(
    storage_options: dict[str, Any] | None = None,
    *,
    days: int = 2,
    start: date = DEFAULT_START,
    seed: int = 0,
    missions: Sequence[str] | None = None,
    instruments: Sequence[str] | None = None,
    stage: str | None = None,
    progress: bool = True,
    allow_remote: bool = False,
    catalog: bool = True,
    settings: Settings | None = None,
    env: str | None = None,
) -> DemoReport:
    """Write demo SOC files into the instrument buckets of a test store, and their catalog.

    The one way to seed a store with demo data: ``soc-workspace demo-data`` and the first
    ``soc-workspace up`` call it.

    Parameters
    ----------
    storage_options
        s3fs options of the store; None: the store of ``settings``
        (:func:`soc_workspace.store.storage_options`).
    days, start, seed
        ``days`` days of data from ``start`` (UTC); the same seed writes the same bytes.
    missions, instruments
        What to make (default: HERMES and PADRE, every instrument with demo data), e.g.
        ``instruments=["eea"]``.
    stage
        ``"prod"`` (default) writes ``hermes-eea``, ``"dev"`` writes ``dev-hermes-eea`` ...
        (``env=`` is its old name, until 0.3.)
    progress
        Show a progress bar over the files.
    allow_remote
        Write even when the endpoint is not on loopback (a remote test store). Without it
        such a store is refused with :class:`~soc_workspace.demo.target.RemoteStoreError`.
    catalog
        Also build the catalog index of every bucket written (True, the default), as the
        SOC operator would; False: the files alone.
    settings
        The workspace settings (the store, ``catalog.url``); default: the settings in effect.

    Returns
    -------
    DemoReport
        The objects written (bucket, key, size), their total size, the time taken, the
        buckets catalogued.
    """
    from ..catalog import build
    from ..store import storage_options as configured_options
    from ..store.outage import store_outage

    stage = stage_argument(stage, env, "write_demo_data") or "prod"
    options = configured_options(settings) if storage_options is None else dict(storage_options)
    endpoint = check_test_store(options, allow_remote)
    again = (
        "run `soc-workspace demo-data` again: it writes the same files with the same bytes, "
        "so what was written before the store stopped is simply written again"
    )
    setting = "the endpoint (`demo-data --store URL`, or store.endpoint_url)"
    with store_outage(endpoint, "writing demo data", again, setting):
        report = _write(
            options, endpoint, days, start, seed, missions, instruments, stage, progress
        )
    if catalog:
        # A remote store the caller vouched for as a test store is indexed as its operator.
        for bucket in report.buckets():
            build(
                bucket,
                operator=allow_remote,
                progress=False,
                settings=settings,
                storage_options=options,
            )
            report.catalogued.append(bucket)
    return report


def _write(
    options: dict[str, Any],
    endpoint: str,
    days: int,
    start: date,
    seed: int,
    missions: Sequence[str] | None,
    instruments: Sequence[str] | None,
    stage: str,
    progress: bool,
) -> DemoReport:
    import s3fs

    jobs = plan(days=days, start=start, seed=seed, missions=missions, instruments=instruments)
    fs = s3fs.S3FileSystem(**{**options, "skip_instance_cache": True})
    began = time.perf_counter()
    report = DemoReport(target=endpoint)
    buckets = sorted({bucket_for(j.mission, j.instrument, stage) for j in jobs})
    existing = set(fs.ls("", refresh=True))
    for bucket in buckets:
        if bucket not in existing:
            fs.mkdir(bucket)

    slots = threading.BoundedSemaphore(MAX_PENDING_UPLOADS)
    lock = threading.Lock()
    with (
        _bar(jobs, f"demo data -> {endpoint}", progress) as bar,
        ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix="demo-upload") as uploads,
    ):
        pending: list[Future] = []
        failed = threading.Event()

        def upload(bucket: str, key: str, data: bytes) -> None:
            try:
                fs.pipe_file(f"{bucket}/{key}", data)
                with lock:
                    report.objects.append((bucket, key, len(data)))
                    bar.update(1)
            except BaseException:
                failed.set()
                raise
            finally:
                slots.release()

        for name, data in _generate(jobs):
            if failed.is_set():
                break  # a failed upload ends the run: no point making the rest
            bucket, key = _place(name, stage)
            slots.acquire()
            pending.append(uploads.submit(upload, bucket, key, data))
        if failed.is_set():
            uploads.shutdown(cancel_futures=True)
        for done in pending:
            if not done.cancelled():
                done.result()  # an upload error surfaces here, naming its object
    report.objects.sort()
    report.seconds = time.perf_counter() - began
    return report


def generate_files(
    out_dir: str | os.PathLike[str],
    *,
    days: int = 2,
    start: date = DEFAULT_START,
    seed: int = 0,
    missions: Sequence[str] | None = None,
    instruments: Sequence[str] | None = None,
    stage: str = "prod",
    progress: bool = True,
) -> list[Path]:
    """Write the demo files into a local tree ``out_dir/<bucket>/<key>``; return their paths."""
    out = Path(out_dir)
    jobs = plan(days=days, start=start, seed=seed, missions=missions, instruments=instruments)
    paths = []
    with _bar(jobs, f"demo data -> {out}", progress) as bar:
        for name, data in _generate(jobs):
            bucket, key = _place(name, stage)
            path = out / bucket / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            paths.append(path)
            bar.update(1)
    return sorted(paths)


def _place(name: str, stage: str) -> tuple[str, str]:
    info = parse_filename(name)
    return bucket_for(info.mission, info.instrument, stage), key_for(info)


def _bar(jobs: list[Job], description: str, progress: bool) -> tqdm:
    return tqdm(
        total=sum(j.n_files for j in jobs),
        desc=description,
        unit="file",
        disable=not progress,
        leave=True,
    )


def _generate(jobs: list[Job]) -> Iterator[tuple[str, bytes]]:
    """The files of every job, in order, made in this process.

    A process pool did not pay on this 2-core machine: starting workers (imports of numpy,
    astropy, cdflib) cost about what it saved, and with the embedded store in-process the
    uploads already keep the second core busy.
    """
    for job in jobs:
        yield from _run(job)


def _run(job: Job) -> list[tuple[str, bytes]]:
    try:
        return job.run()
    except Exception as err:
        raise RuntimeError(f"making demo data for {job.what} failed: {err}") from err
