"""A library of 100,000 notes + 20,000 photos: start-up, search latency, memory, disk.

Generates (seeded) a real library through the product's import and indexing paths (see
scale_library.py for what is synthetic), then measures in fresh processes:

* start-up: ``saem search`` end to end (CLI wall time), and in-process ``Library(...)`` open
  + the first search (embedder and vector index loaded); optionally the GUI's launch → first
  paint / usable (bench_gui's child process, ``--gui``);
* search p50/p95 over varied queries (English and Korean keywords, natural-language
  questions, filters, phrases) for hybrid, keyword-only and dense search, the palette's
  keystroke path (``suggest``) and quick find (titles);
* peak RSS of that process (open + every query), library size on disk, generation time.

A baseline library ten times smaller is generated and measured in the same run.

    .venv/bin/python benchmarks/bench_scale.py                      # 100k + 20k vs 10k + 2k
    .venv/bin/python benchmarks/bench_scale.py --library /tmp/saem-scale/big \\
        --baseline-library /tmp/saem-scale/base                      # keep (and reuse) them
    .venv/bin/python benchmarks/bench_scale.py --notes 3000 --photos 300 --baseline-notes 0
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_search import EN, KO, KO_SUFFIX, _word
from scale_library import TAGS, generate

SAEM = Path(sys.executable).with_name("saem")
ASK_EN = [
    "notes about {a} and {b}",
    "what did I write about the {a} {b}",
    "plans for {a} with {b}",
    "photos of a {a} near the {b}",
    "how much was the {a}",
]
ASK_KO = ["{a} {b} 관련 메모", "{a}에서 찍은 사진", "지난번 {a} {b} 어땠지", "{a} 가격 영수증"]
FILTERS = [
    "tag:{t} {a}",
    "kind:photo {a}",
    "kind:note {a} {b}",
    "after:2023 {a}",
    "before:2021-06 {a}",
    "after:2022-03 before:2022-09 {a}",
    "near:Seoul kind:photo",
    "near:Paris {a}",
    "tag:{t}",
]


def make_queries(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """(category, query) pairs, a fixed mix of every kind of query the parser supports."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for i in range(n):
        a, b = _word(rng, EN), _word(rng, EN)
        ka, kb = _word(rng, KO), _word(rng, KO)
        kind = i % 8
        if kind in (0, 1):
            out.append(("keyword en", " ".join(_word(rng, EN) for _ in range(rng.randint(1, 3)))))
        elif kind in (2, 3):
            words = [_word(rng, KO) + rng.choice(KO_SUFFIX) for _ in range(rng.randint(1, 3))]
            out.append(("keyword ko", " ".join(words)))
        elif kind == 4:
            out.append(("question en", rng.choice(ASK_EN).format(a=a, b=b)))
        elif kind == 5:
            out.append(("question ko", rng.choice(ASK_KO).format(a=ka, b=kb)))
        elif kind == 6:
            word = a if rng.random() < 0.5 else ka
            out.append(("filter", rng.choice(FILTERS).format(t=rng.choice(TAGS), a=word, b=b)))
        else:
            out.append(("phrase", f'"{a} {b}"' if rng.random() < 0.5 else f'"{ka}" {kb}'))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _rss_mb() -> float:
    """Peak RSS of this process. VmHWM, not ru_maxrss: Linux carries ru_maxrss across
    fork+exec, so a child of the (multi-GB) generating process would report its parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- child process: open + queries ---------------------------------------------------------


def child_measure(library: Path, n_queries: int, t0: float) -> None:
    """Runs in a fresh process: open the library, run every query, print JSON."""
    out: dict[str, Any] = {"python_ready_ms": (time.time() - t0) * 1000}
    t = time.perf_counter()
    from core.errors import BadInputError
    from core.library import Library
    from core.search.quick_find import QuickFinder
    from core.search.searcher import Searcher

    out["imports_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    lib = Library(library, create=False)
    out["open_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    searcher = Searcher(lib)
    first = searcher.search("여행 travel plans", limit=10)
    out["first_search_ms"] = (time.perf_counter() - t) * 1000
    out["first_search_hits"] = len(first.hits)
    out["first_search_methods"] = first.methods
    out["since_launch_ms"] = (time.time() - t0) * 1000
    out["rss_after_open_mb"] = _rss_mb()
    queries = make_queries(n_queries)
    lat: dict[str, list[float]] = {}
    hits: dict[str, int] = {}
    for method in ("hybrid", "bm25", "dense"):
        for category, q in queries:
            t = time.perf_counter()
            found = searcher.search(q, limit=20, method=method)
            ms = (time.perf_counter() - t) * 1000
            lat.setdefault(method, []).append(ms)
            hits[method] = hits.get(method, 0) + bool(found.hits)
            if method == "hybrid":
                lat.setdefault(f"hybrid: {category}", []).append(ms)
    prefixes = [
        q[:k] for _, q in queries[:: max(1, len(queries) // 30)] for k in range(1, len(q) + 1)
    ]
    prefixes = [p for p in prefixes if p.strip() and ":" not in p]
    for p in prefixes:
        t = time.perf_counter()
        try:
            searcher.suggest(p, limit=8)
        except BadInputError:  # a lone quote: the palette shows nothing, as here
            pass
        lat.setdefault("palette keystroke (suggest)", []).append((time.perf_counter() - t) * 1000)
    finder = QuickFinder(lib)
    t = time.perf_counter()
    finder.refresh(force=True)
    out["quick_find_load_ms"] = (time.perf_counter() - t) * 1000
    rng = random.Random(3)
    titles = [r.title for r in lib.list_items(limit=2000)]
    quick = [" ".join(rng.choice(titles).split()[: rng.randint(1, 2)])[: rng.randint(2, 12)]]
    quick += [rng.choice(titles)[:k] for k in range(1, 12) for _ in range(20)]
    for q in quick:
        t = time.perf_counter()
        found = finder.search(q, limit=20, refresh=False)
        lat.setdefault("quick find (titles)", []).append((time.perf_counter() - t) * 1000)
        hits["quick find (titles)"] = hits.get("quick find (titles)", 0) + bool(found.hits)
    out["latency"] = {
        k: {
            "n": len(v),
            "p50": pct(v, 50),
            "p95": pct(v, 95),
            "mean": statistics.mean(v),
            "max": max(v),
        }
        for k, v in lat.items()
    }
    out["queries_with_hits"] = hits
    out["n_queries"] = len(queries)
    out["peak_rss_mb"] = _rss_mb()
    lib.close()
    print(json.dumps(out), flush=True)


def measure(library: Path, n_queries: int) -> dict[str, Any]:
    t0 = time.time()
    args = [sys.executable, __file__, "--child-measure", str(library), "--queries", str(n_queries)]
    args += ["--t0", str(t0)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    if done.returncode:
        raise RuntimeError(f"measuring process failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_search(library: Path, runs: int = 3) -> list[float]:
    """`saem search` from a cold process, wall time in ms (best of a few is the figure)."""
    times = []
    for q in ["coffee meeting", "여행 계획", "tag:travel beach"][:runs]:
        t = time.perf_counter()
        done = subprocess.run(
            [str(SAEM), "--library", str(library), "search", "--limit", "10", q],
            capture_output=True,
            text=True,
            timeout=600,
        )
        times.append((time.perf_counter() - t) * 1000)
        if done.returncode:
            raise RuntimeError(f"saem search failed: {done.stderr[-2000:]}")
    return times


def gui_start(library: Path) -> dict[str, float]:
    import bench_gui

    env_before = os.environ.get("QT_QPA_PLATFORM")
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        return bench_gui.cold_start(library)
    finally:
        if env_before is None:
            os.environ.pop("QT_QPA_PLATFORM", None)
        else:
            os.environ["QT_QPA_PLATFORM"] = env_before


def disk_usage(root: Path) -> dict[str, float]:
    sizes: dict[str, float] = {}
    for entry in root.iterdir():
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        name = entry.name if entry.is_dir() else "library.db (+wal)"
        sizes[name] = sizes.get(name, 0.0) + sum(p.stat().st_size for p in files) / 2**20
    sizes["total"] = sum(sizes.values())
    return sizes


def library_info(root: Path) -> dict[str, Any]:
    from core.indexing.indexer import Indexer
    from core.library import Library

    with Library(root, create=False) as lib:
        stats = lib.stats()
        status = Indexer(lib, auto_models=False).status()
        return {
            "notes": stats.notes,
            "photos": stats.photos,
            "tags": stats.tags,
            "chunks": status.chunks,
            "jobs": stats.jobs,
            "pending": status.pending + status.running,
            "serving_model": status.serving_model,
        }


# -- one library -------------------------------------------------------------------------


def prepare(path: Path | None, notes: int, photos: int, args: argparse.Namespace) -> Path:
    """Generate the library at ``path`` (or a temp dir), or reuse one generated before."""
    root = path or Path(tempfile.mkdtemp(prefix="saem-scale-")) / "library"
    info_file = root.with_name(root.name + ".generation.json")
    if (root / "library.db").exists() and info_file.exists():
        print(f"  reusing {root} (generated before: {info_file.name})")
        return root
    if root.exists():
        shutil.rmtree(root)
    work = root.with_name(root.name + "-files")
    started = time.perf_counter()
    gen = generate(root, notes, photos, work=work, seed=args.seed, real_chunks=args.real_chunks)
    total = time.perf_counter() - started
    shutil.rmtree(work, ignore_errors=True)
    info = {
        "stages_s": gen.timings.stages,
        "total_s": total,
        "real_vectors": gen.real_vectors,
        "hashed_vectors": gen.hashed_vectors,
        "vectors": gen.vectors,
        "load_average": os.getloadavg(),
        "peak_rss_mb": _rss_mb(),  # of the generating process (import + index + HNSW build)
    }
    info_file.write_text(json.dumps(info, indent=1), encoding="utf-8")
    return root


def run_one(label: str, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    print(f"== {label}: measuring {root}")
    result: dict[str, Any] = {"label": label, "root": str(root)}
    result["generation"] = json.loads(
        root.with_name(root.name + ".generation.json").read_text(encoding="utf-8")
    )
    result["library"] = library_info(root)
    result["disk_mb"] = disk_usage(root)
    result["load_before"] = os.getloadavg()
    result["measure"] = measure(root, args.queries)
    if not args.no_cli:
        result["cli_search_ms"] = cli_search(root)
    if args.gui:
        result["gui"] = gui_start(root)
    result["load_after"] = os.getloadavg()
    return result


def report(results: list[dict[str, Any]]) -> None:
    base = results[0] if len(results) > 1 else None
    for r in results:
        lib, gen = r["library"], r["generation"]
        print(
            f"\n== {r['label']}: {lib['notes']:,} notes, {lib['photos']:,} photos, "
            f"{lib['chunks']:,} chunks, jobs {lib['jobs']}"
        )
        print(
            f"  generated in {gen['total_s']:.0f} s: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in gen["stages_s"].items())
            + f"; vectors {gen['real_vectors']:,} real USE-m3 + {gen['hashed_vectors']:,} "
            f"hashed stand-ins (+ photo vectors)"
        )
        print("  disk: " + ", ".join(f"{k} {v:,.0f} MB" for k, v in r["disk_mb"].items()))
        print(f"  load average before/after: {r['load_before'][0]:.2f} / {r['load_after'][0]:.2f}")
    print(
        "\n| measure | "
        + " | ".join(r["label"] for r in results)
        + (" | ratio |" if base else " |")
    )
    print("|---" * (len(results) + 1 + bool(base)) + "|")

    def row(name: str, values: list[float], unit: str = "ms") -> None:
        cells = [f"{v:,.1f} {unit}" for v in values]
        ratio = (
            f" | {values[-1] / values[0]:.2f}×" if base and values[0] else (" | –" if base else "")
        )
        print(f"| {name} | " + " | ".join(cells) + ratio + " |")

    ms = [r["measure"] for r in results]
    row("python + imports", [m["python_ready_ms"] + m["imports_ms"] for m in ms])
    row("Library() open", [m["open_ms"] for m in ms])
    row("first search (loads embedder + vector index)", [m["first_search_ms"] for m in ms])
    row("launch → first results, in process", [m["since_launch_ms"] for m in ms])
    if all("cli_search_ms" in r for r in results):
        row("`saem search` end to end, best of 3", [min(r["cli_search_ms"]) for r in results])
    if all("gui" in r for r in results):
        row("GUI launch → first paint", [r["gui"]["first_paint"] * 1000 for r in results])
        row("GUI launch → usable", [r["gui"]["usable"] * 1000 for r in results])
    for key in ms[-1]["latency"]:
        if all(key in m["latency"] for m in ms):
            n = ms[-1]["latency"][key]["n"]
            row(f"{key} p50 (n={n})", [m["latency"][key]["p50"] for m in ms])
            row(f"{key} p95", [m["latency"][key]["p95"] for m in ms])
    row("quick find: load titles", [m["quick_find_load_ms"] for m in ms])
    row("peak RSS (open + all queries)", [m["peak_rss_mb"] for m in ms], "MB")
    row("disk", [r["disk_mb"]["total"] for r in results], "MB")
    print(
        "\nqueries with hits: "
        + "; ".join(
            f"{r['label']}: {r['measure']['queries_with_hits']} of {r['measure']['n_queries']}"
            for r in results
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--photos", type=int, default=20_000)
    parser.add_argument("--baseline-notes", type=int, default=10_000, help="0: no baseline")
    parser.add_argument("--baseline-photos", type=int, default=2_000)
    parser.add_argument("--library", type=Path, default=None, help="keep/reuse it here")
    parser.add_argument("--baseline-library", type=Path, default=None)
    parser.add_argument("--queries", type=int, default=240)
    parser.add_argument("--real-chunks", type=int, default=5000, help="embedded by USE-m3")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gui", action="store_true", help="also GUI start-up (offscreen)")
    parser.add_argument("--no-cli", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write every figure here")
    parser.add_argument("--child-measure", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_measure:
        child_measure(args.child_measure, args.queries, args.t0 or time.time())
        return
    plan = []
    if args.baseline_notes:
        plan.append(("baseline", args.baseline_library, args.baseline_notes, args.baseline_photos))
    plan.append(("scale", args.library, args.notes, args.photos))
    results = []
    temps = []
    for label, path, notes, photos in plan:
        print(f"== {label}: {notes:,} notes + {photos:,} photos")
        root = prepare(path, notes, photos, args)
        if path is None:
            temps.append(root.parent)
        results.append(run_one(f"{label} {notes:,}+{photos:,}", root, args))
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    for tmp in temps:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
