"""``cevnsfast reproduce``: every result of the project into one folder with an index."""

import atexit
import gc
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numba
from tqdm import tqdm

from cevnsfast.paths import DATA_DIR_ENV, data_dir
from cevnsfast.report import Artifact


def csi_data_available() -> bool:
    return (data_dir() / "coherent-csi-2021").is_dir()


def reproduce(out_dir: Path, progress: bool = True) -> list[Artifact]:
    """Build missing tables, then write figures, tables and ``index.md`` into ``out_dir``."""
    from cevnsfast.build_tables import enable_builds
    from cevnsfast.build_tables.build import build_all
    from cevnsfast.detectors.spec import load_spec

    start = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    include_csi = csi_data_available()
    artifacts: list[Artifact] = []
    if not include_csi:
        artifacts.append(
            Artifact(
                "notes",
                "CsI 2021 skipped",
                "note",
                None,
                f"The CsI 2021 data release was not found under {data_dir()}: the CsI (2021) "
                "columns, curves and regions are left out. Point cevnsfast at the release with "
                f"`--data-dir DIR` or the environment variable {DATA_DIR_ENV} (DIR holds "
                "coherent-csi-2021/).",
            )
        )
    enable_builds()  # the model tables of the scenario summary are built as it needs them
    # two processes share the work: a spawned worker draws the paper's spectra and fits the
    # talk's scenarios (second section, sharing nothing with the rest), this one draws the
    # paper's single-coupling results and runs the Feldman–Cousins section (third); then both take
    # the independent region scans of Figs. 6–9 from a shared queue, the worker from its
    # front, this process from its back, so that neither idles while scans remain
    threads = numba.get_num_threads()
    builder = builds = None
    try:
        with ProcessPoolExecutor(
            1,
            mp_context=get_context("spawn"),
            initializer=_init_worker,
            initargs=(max(1, threads - threads // 2),),
        ) as pool:
            # the worker starts now: its interpreter and imports (~2.5 s) overlap the table
            # check and the imports here
            pool.submit(int)
            # every detector table up to date before any fit: a stale one (left by a code
            # change) is rebuilt here, where the fits would refuse it (LAr 2020 only with its
            # release present)
            lar = [] if load_spec("lar2020").missing_inputs() else ["lar2020"]
            detectors = ["nai", "cryocsi", *(["csi2021"] if include_csi else []), *lar]
            build_all(detectors, progress=progress)
            from cevnsfast import paper
            from cevnsfast.figures.regions import region_extent_table, region_jobs
            from cevnsfast.stats.report import fc_section

            numba.set_num_threads(max(1, threads // 2))  # two processes share the cores
            queue = deque(region_jobs(include_csi))
            regions: dict = {}
            builder, builds = _start_table_builds(include_csi, progress)
            with tqdm(
                total=2 + paper.n_profile_jobs() + len(queue),
                desc="reproduce",
                unit="step",
                disable=not progress,
            ) as bar:
                worker = pool.submit(_worker_sections, out_dir, include_csi)
                lock = threading.Lock()
                feeder = threading.Thread(
                    target=_feed_worker, args=(pool, worker, queue, lock, regions, bar)
                )
                feeder.start()
                figures = _RegionFigures(out_dir, include_csi, regions, lock)
                try:
                    single = paper.single_coupling_results(out_dir, include_csi, bar)
                    fc = fc_section(out_dir, include_csi)
                    bar.update(1)
                    _take_regions(
                        queue, lock, regions, bar, pop=queue.pop, after=figures.draw_ready
                    )
                    figures.draw_all()
                except BaseException:
                    with lock:
                        queue.clear()  # stop feeding the worker
                    raise
                finally:
                    feeder.join()
                regions = {job: _value(result) for job, result in regions.items()}
                spectra, scenarios = worker.result()
                artifacts += spectra + single + figures.artifacts()
                artifacts += [region_extent_table(out_dir, regions, include_csi)] + scenarios + fc
        if builds is not None:
            builds.result()  # raises a build's error (the fits then failed on it too)
    finally:
        numba.set_num_threads(threads)
        if builder is not None:
            builder.shutdown(cancel_futures=True)
    write_index(out_dir, artifacts, time.perf_counter() - start)
    return artifacts


def _start_table_builds(
    include_csi: bool, progress: bool
) -> tuple[ProcessPoolExecutor, Future | None]:
    """A third process building the scenario section's missing tables while the paper
    section and the fits run (``_build_scenario_tables``); its future, None if none miss."""
    builder = ProcessPoolExecutor(
        1, mp_context=get_context("spawn"), initializer=_exit_without_final_gc
    )
    pending = _missing_scenario_tables() if include_csi else []
    builds = builder.submit(_build_scenario_tables, pending, progress) if pending else None
    return builder, builds


def _missing_scenario_tables() -> list[tuple[str, str]]:
    """(detector, model) of every model table of the scenario section not built yet, in the
    order of ``SCENARIOS``; LAr 2020 only when its data release is there."""
    from cevnsfast.detectors.spec import load_spec
    from cevnsfast.likelihood.registry import NSI_MODEL
    from cevnsfast.likelihood.scenarios import SCENARIOS
    from cevnsfast.model_tables import model_table_path
    from cevnsfast.models.scenarios import get_model

    detectors = ["csi2021", *([] if load_spec("lar2020").missing_inputs() else ["lar2020"])]
    models = dict.fromkeys(sc.model for sc in SCENARIOS.values() if sc.model != NSI_MODEL)
    return [
        (det, m)
        for m in models
        for det in detectors
        if not model_table_path(det, get_model(m)).exists()
    ]


def _build_scenario_tables(pairs: list[tuple[str, str]], progress: bool) -> None:
    """Worker: the model tables from the last scenario's backwards. The fits build the first
    ones as they reach them; the two meet in the middle, and the lock makes whoever comes
    second wait and reuse the table."""
    from cevnsfast.build_tables.model_tables import build_missing_model_tables

    build_missing_model_tables(pairs[::-1], progress=progress)


def _exit_without_final_gc() -> None:
    """A worker process returns its results and closes its files before it ends: at exit it
    skips the interpreter's garbage collections over its whole heap (``gc.freeze``), which
    the parent's pool shutdown would otherwise wait for (~0.5-1 s)."""
    atexit.register(gc.freeze)


def _init_worker(threads: int) -> None:
    """The worker process: its share of the numba threads, table builds on demand (the
    scenario summary builds its model tables as it needs them) and its imports."""
    from cevnsfast.build_tables import enable_builds

    _exit_without_final_gc()
    numba.set_num_threads(threads)
    enable_builds()
    # the modules of its sections, imported while the parent process checks the tables
    import cevnsfast.figures.regions  # noqa: F401
    import cevnsfast.paper  # noqa: F401
    import cevnsfast.scenario_summary  # noqa: F401


def _worker_sections(out_dir: Path, include_csi: bool) -> tuple[list, list]:
    """In the worker process: (Fig. 1 and the event totals of arXiv:2402.16953, the talk's
    scenarios on the real data: CsI, LAr, CsI+LAr)."""
    from cevnsfast import paper
    from cevnsfast.scenario_summary import scenario_summary

    spectra = [
        paper.spectra_figure(out_dir),
        paper.event_totals_table(out_dir, ["nai", "cryocsi", *(["csi2021"] * include_csi)]),
    ]
    return spectra, scenario_summary(out_dir, include_data=include_csi, progress=False)


def _take_regions(queue: deque, lock: threading.Lock, regions: dict, bar, pop, after) -> None:
    """Compute region scans in this process, taking each job with ``pop`` until none is left;
    ``after()`` runs after each one."""
    from cevnsfast.figures.regions import compute_region

    while True:
        with lock:
            if not queue:
                return
            job = pop()
        result = compute_region(*job)
        with lock:
            regions[job] = result
        bar.update(1)
        after()


class _RegionFigures:
    """Figs. 6–9, each drawn in this process's main thread (matplotlib is not thread-safe) as
    soon as its region scans are done, so that drawing overlaps the worker's last scans
    instead of following them (about 4 s for the four figures)."""

    def __init__(self, out_dir: Path, include_csi: bool, regions: dict, lock: threading.Lock):
        self.out_dir = out_dir
        self.include_csi = include_csi
        self.regions = regions  # job → result, or the Future of one the worker computes
        self.lock = lock
        self.drawn: dict[int, Artifact] = {}

    def draw_ready(self) -> None:
        """Draw every figure whose scans are all done."""
        self._draw(wait=False)

    def draw_all(self) -> None:
        """Draw the remaining figures, in order, waiting for the worker's scans they need
        (every job is taken: this process found the queue empty)."""
        self._draw(wait=True)

    def artifacts(self) -> list[Artifact]:
        from cevnsfast.figures.regions import FIGURES

        return [self.drawn[number] for number in FIGURES]

    def _draw(self, wait: bool) -> None:
        from cevnsfast.figures.regions import (
            FIGURES,
            compute_region,
            draw_region_figure,
            figure_jobs,
        )

        for number in FIGURES:
            if number in self.drawn:
                continue
            jobs = figure_jobs(number, self.include_csi)
            if wait:
                # a job missing now was handed back by a broken worker pool after this process
                # found the queue empty (``_feed_worker``): computed here
                with self.lock:
                    missing = [job for job in jobs if job not in self.regions]
                for job in missing:
                    result = compute_region(*job)
                    with self.lock:
                        self.regions[job] = result
            with self.lock:
                results = [self.regions.get(job) for job in jobs]
            if not wait and not all(_done(r) for r in results):
                continue
            regions = {job: _value(r) for job, r in zip(jobs, results, strict=True)}
            self.drawn[number] = draw_region_figure(self.out_dir, number, self.include_csi, regions)


def _feed_worker(pool, first: Future, queue: deque, lock, regions: dict, bar) -> None:
    """After ``first`` (the worker's own sections), hand the worker region scans from the
    front of ``queue`` one at a time (a job waiting in the pool could no longer be taken by
    this process). Results are stored as futures: their errors surface in ``_value``."""
    from cevnsfast.figures.regions import compute_region

    first.exception()  # wait; its own error is raised where its result is read
    bar.update(1)
    while True:
        with lock:
            if not queue:
                return
            job = queue.popleft()
            try:
                future = pool.submit(compute_region, *job)
            except BaseException:  # the pool is broken: this process computes the rest
                queue.appendleft(job)
                return
            regions[job] = future
        future.exception()
        bar.update(1)


def _value(result):
    return result.result() if isinstance(result, Future) else result


def _done(result) -> bool:
    """A region is there: computed here, or the worker's future has finished."""
    return result is not None and not (isinstance(result, Future) and not result.done())


def write_index(out_dir: Path, artifacts: list[Artifact], seconds: float) -> Path:
    """index.md: every figure inline, every table inline, notes first."""
    lines = [
        "# cevnsfast — reproduction of arXiv:2402.16953 and of the COHERENT scenarios of the talk",
        "",
        f"Generated by `cevnsfast reproduce` in {seconds:.1f} s. Values tagged [assumed] in the "
        "detector specs (`cevnsfast detectors`) are documented in docs/physics.md.",
        "",
    ]
    section = None
    for a in sorted(artifacts, key=lambda a: a.kind != "note"):
        if a.section != section:
            section = a.section
            lines += [f"## {section}", ""]
        lines += [f"### {a.title}", ""]
        if a.kind == "figure":
            rel = a.path.relative_to(out_dir)
            pdfs = ", ".join(f"[{p.suffix[1:].upper()}]({p.relative_to(out_dir)})" for p in a.extra)
            lines += [f"![{a.title}]({rel})", "", f"{a.caption} {pdfs}".strip(), ""]
        elif a.kind == "table":
            files = ", ".join(f"[{p.name}]({p.relative_to(out_dir)})" for p in [a.path, *a.extra])
            lines += [a.markdown, "", f"{a.caption} ({files})", ""]
        else:
            lines += [a.caption, ""]
    index = out_dir / "index.md"
    index.write_text("\n".join(lines), encoding="utf-8")
    return index
