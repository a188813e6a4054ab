"""Memory of every process of bench/soak.py's stack: a sampler thread (RSS per process every 10 s, psutil) and
the tables (start after warm-up, end, max, slope by least squares; the pre-warm's means by window). Used by
bench/soak.py."""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import psutil

MB = 1024 * 1024


@dataclass
class Sample:
    at: float  # seconds since the sampler started
    rss: int
    pss: int | None = None
    threads: int | None = None


@dataclass
class MemorySampler:
    """``roots``: label → pid of a process of the stack; each sample walks its children too (gunicorn's
    workers, a prefork worker's children, Postgres backends), labelled ``<label> child``. Postgres backends
    come and go with connections: their RSS also counts the shared buffers they touched, so the group is
    reported as a sum of PSS (each shared page divided among the processes that map it)."""

    roots: dict[str, int]
    interval: float = 10.0
    grouped: tuple[str, ...] = ("postgres",)
    samples: dict[tuple[str, int], list[Sample]] = field(default_factory=lambda: defaultdict(list))
    groups: dict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))
    load: list[tuple[float, float, float, float]] = field(default_factory=list)  # (at, 1, 5, 15 min)
    cpu_busy: list[tuple[float, float]] = field(default_factory=list)  # (at, % of the machine since last)
    group_sizes: dict[str, list[int]] = field(default_factory=dict)  # label → processes at each sample
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _started: float = 0.0
    _stopped: float | None = None

    def start(self) -> None:
        self._started = time.monotonic()
        psutil.cpu_percent(None)
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
        self._stopped = time.monotonic()

    def elapsed(self) -> float:
        """Seconds since the start, up to the stop once stopped."""
        return (self._stopped or time.monotonic()) - self._started

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def sample(self) -> None:
        at = self.elapsed()
        self.load.append((at, *os.getloadavg()))
        self.cpu_busy.append((at, psutil.cpu_percent(None)))
        for label, pid in list(self.roots.items()):
            try:
                root = psutil.Process(pid)
                family = [(label, root)] + [
                    (f"{label} child", child) for child in root.children(recursive=True)
                ]
            except psutil.NoSuchProcess:
                continue
            group_rss = group_pss = group_uss = 0
            for name, process in family:
                try:
                    if label in self.grouped:
                        info = process.memory_full_info()
                        group_rss += info.rss
                        group_pss += info.pss
                        group_uss += info.uss
                        if process.pid != pid:
                            continue
                        self.samples[(name, process.pid)].append(Sample(at, info.rss, info.pss))
                    else:
                        with process.oneshot():
                            sample = Sample(at, process.memory_info().rss, threads=process.num_threads())
                        self.samples[(name, process.pid)].append(sample)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            if label in self.grouped:
                self.groups[f"{label} (all processes)"].append(Sample(at, group_rss, group_pss))
                # Their private memory only (USS): what PSS adds beyond it is shared pages, mostly the shared
                # buffers, which grow as the soak touches more of the database until they are all in use.
                self.groups[f"{label} private (all processes)"].append(Sample(at, group_uss))
                self.group_sizes.setdefault(label, []).append(len(family))


def slope_mb_per_minute(points: list[Sample]) -> float | None:
    """Least-squares slope of RSS over time, MB per minute; None with fewer than 3 samples."""
    if len(points) < 3:
        return None
    xs = [p.at / 60 for p in points]
    ys = [p.rss / MB for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


@dataclass
class Row:
    process: str
    pid: int | None
    samples: int
    start_mb: float
    end_mb: float
    max_mb: float
    slope: float | None
    late_slope: float | None  # over the second half of the samples after the warm-up: still growing?
    note: str = ""


def memory_rows(sampler: MemorySampler, *, warmup: float) -> list[Row]:
    """One row per process seen after the warm-up (and per group), from the first sample after it."""
    rows: list[Row] = []
    series: list[tuple[tuple[str, int | None], list[Sample]]] = [
        ((name, pid), points) for (name, pid), points in sampler.samples.items()
    ]
    series += [((name, None), points) for name, points in sampler.groups.items()]
    for (name, pid), points in sorted(series, key=lambda item: (item[0][0], item[0][1] or 0)):
        after = [p for p in points if p.at >= warmup]
        if not after:
            continue
        use_pss = after[0].pss is not None and pid is None
        values = [Sample(p.at, p.pss or 0) if use_pss else p for p in after]
        note = "sum of PSS" if use_pss else ("sum of USS" if " private " in name else "")
        if after[0].at - warmup > sampler.interval * 1.5:
            note = (note + "; " if note else "") + f"appeared at {after[0].at:.0f} s"
        if after[-1].at < sampler.elapsed() - sampler.interval * 1.5:
            note = (note + "; " if note else "") + f"gone at {after[-1].at:.0f} s"
        rows.append(
            Row(
                process=name,
                pid=pid,
                samples=len(values),
                start_mb=values[0].rss / MB,
                end_mb=values[-1].rss / MB,
                max_mb=max(v.rss for v in values) / MB,
                slope=slope_mb_per_minute(values),
                late_slope=slope_mb_per_minute(
                    [v for v in values if v.at >= (values[0].at + values[-1].at) / 2]
                ),
                note=note,
            )
        )
    return rows


def memory_table(rows: list[Row]) -> str:
    lines = [
        "| process | pid | samples | start MB | end MB | max MB | slope MB/min | 2nd half MB/min | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        slope, late = ("–" if v is None else f"{v:+.2f}" for v in (row.slope, row.late_slope))
        lines.append(
            f"| {row.process} | {row.pid or ''} | {row.samples} | {row.start_mb:.1f} | {row.end_mb:.1f} | "
            f"{row.max_mb:.1f} | {slope} | {late} | {row.note} |"
        )
    return "\n".join(lines)


def window_means_table(sampler: MemorySampler, *, windows: int = 6) -> str:
    """RSS of each process (not the groups), the mean of each of ``windows`` equal spans of the sampler's run,
    and the slope over its second half: whether a process reaches a level under a long load (the pre-warm)."""
    span = sampler.elapsed() / windows
    unit, scale = ("min", 60) if span >= 60 else ("s", 1)
    lines = [
        "| process | pid | "
        + " | ".join(f"{i * span / scale:.0f}–{(i + 1) * span / scale:.0f} {unit}" for i in range(windows))
        + " | 2nd half MB/min |",
        "|---|---|" + "---|" * (windows + 1),
    ]
    for (name, pid), points in sorted(sampler.samples.items()):
        means = []
        for i in range(windows):
            inside = [p.rss for p in points if i * span <= p.at < (i + 1) * span]
            means.append(f"{sum(inside) / len(inside) / MB:.0f}" if inside else "")
        late = slope_mb_per_minute([p for p in points if p.at >= sampler.elapsed() / 2])
        lines.append(
            f"| {name} | {pid} | " + " | ".join(means) + f" | {'–' if late is None else f'{late:+.2f}'} |"
        )
    return "\n".join(lines)


def group_sizes_line(sampler: MemorySampler, *, warmup: float) -> str:
    """How many processes each group had (first sample after the warm-up, last, most) and their private
    memory per process then: whether a group's growth is more processes (Postgres backends opened as
    connection pools fill) or each process growing."""
    parts = []
    for label, sizes in sampler.group_sizes.items():
        private = sampler.groups.get(f"{label} private (all processes)", [])
        after = [(s.rss, n) for s, n in zip(private, sizes, strict=False) if s.at >= warmup]
        if not after:
            continue
        (first_uss, first_n), (last_uss, last_n) = after[0], after[-1]
        parts.append(
            f"{label}: {first_n} → {last_n} processes (at most {max(n for _, n in after)}); private memory "
            f"per process {first_uss / first_n / MB:.1f} → {last_uss / last_n / MB:.1f} MB"
        )
    return "; ".join(parts)


def thread_changes_line(sampler: MemorySampler, *, warmup: float) -> str:
    """Processes whose thread count changed after the warm-up (a pool starting threads as work comes: each
    brings its own connections and caches): ``name pid: before -> after (first change at t s)``."""
    parts = []
    for (name, pid), points in sorted(sampler.samples.items()):
        after = [p for p in points if p.at >= warmup and p.threads is not None]
        changed = [p for previous, p in zip(after, after[1:], strict=False) if p.threads != previous.threads]
        if changed:
            parts.append(
                f"{name} {pid}: {after[0].threads} → {after[-1].threads} "
                f"(first change at {changed[0].at:.0f} s)"
            )
    return "; ".join(parts)
