"""One command for the serving benchmark: ``python benchmarks/run.py [--sizes 100k,1m]``.

For each size: makes a synthetic release (``mkg synth --format release``, cached in the work
folder), then starts each system in turn on 127.0.0.1 and measures it alone:

- ``mkg``: the publisher under gunicorn as deployed (2 workers x 4 threads, embedded store);
- ``oxigraph``: ``oxigraph serve-read-only`` on the same files (loaded with ``oxigraph load``);
- ``rdflib``: ``rdflib-endpoint`` (FastAPI + rdflib under uvicorn), the Python peer;
- ``mkg-remote``: the publisher under gunicorn with ``STORE_URL`` pointing at an ``oxigraph
  serve-read-only`` holding the release (when ``server/remote.py`` is present).

Measured: load time (process start to first answer), memory (RSS and PSS summed over the
process tree, from /proc/<pid>/smaps_rollup), single-client median latency of each query,
result counts (compared across systems), and with wrk: throughput, p50 and p99 of the query
mix and of dereferencing at 4 and 8 clients. Every server is stopped at the end; every load
is bounded in time. Writes ``benchmarks/results/latest.json`` and the tables of
``docs/benchmarks.md`` (between its result markers).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.queries import BASE, Query, deref_iris, mix  # noqa: E402

VENV = ROOT / ".venv" / "bin"
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
GRAPHS = {"data.nt": "data", "ontology.ttl": "ontology", "shapes.ttl": "shapes", "void.ttl": "void"}
SYSTEMS = ("mkg", "oxigraph", "rdflib", "mkg-remote")
REQUEST_TIMEOUT = 60.0
READY_TIMEOUT = 900.0
SLOW_SECONDS = 2.0


# --- processes -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += _children(current)
    return out


def memory(pids: list[int]) -> dict[str, int]:
    """RSS and PSS in bytes, summed over ``pids`` (smaps_rollup)."""
    total = {"rss": 0, "pss": 0}
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                total[key.lower()] += int(rest.split()[0]) * 1024
    return total


class Server:
    """A started server process group, its port and its SPARQL path."""

    def __init__(self, name: str, argv: list[str], port: int, sparql_path: str, env: dict | None = None,
                 deref: str = "describe", log: Path | None = None):
        self.name, self.port, self.sparql_path, self.deref = name, port, sparql_path, deref
        self.log = open(log, "wb") if log else subprocess.DEVNULL
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, env={**os.environ, **(env or {})}, cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.others: list[Server] = []

    def pids(self) -> list[int]:
        pids = tree(self.proc.pid)
        for other in self.others:
            pids += other.pids()
        return pids

    def wait_ready(self) -> float:
        deadline = self.started + READY_TIMEOUT
        probe = self.sparql_path + "?" + urlencode({"query": "ASK { ?s ?p ?o }"})
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            try:
                status, _, _ = get(self.port, probe, "application/sparql-results+json", timeout=5)
                if status == 200:
                    return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {READY_TIMEOUT} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for other in self.others:
            other.stop()


def get(port: int, path: str, accept: str, timeout: float = REQUEST_TIMEOUT) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": accept})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


# --- the systems -----------------------------------------------------------------------------

def oxigraph_db(release: Path, work: Path) -> tuple[Path, float]:
    """An on-disk Oxigraph store of the release (built once); the seconds it took to load."""
    db = work / "oxigraph-db"
    stamp = work / "oxigraph-load-seconds"
    if db.exists() and stamp.exists():
        return db, float(stamp.read_text())
    shutil.rmtree(db, ignore_errors=True)
    started = time.monotonic()
    for name, graph in GRAPHS.items():
        subprocess.run([str(VENV / "oxigraph"), "load", "--location", str(db), "--file", str(release / name),
                        "--graph", f"{BASE}graph/{graph}"], check=True, capture_output=True)
    seconds = time.monotonic() - started
    stamp.write_text(f"{seconds:.3f}")
    return db, seconds


def start_oxigraph(db: Path, work: Path) -> Server:
    port = free_port()
    return Server("oxigraph", [str(VENV / "oxigraph"), "serve-read-only", "--location", str(db),
                               "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                  port, "/query", log=work / "oxigraph.log")


def start_mkg(release_root: Path, work: Path, store_url: str | None = None) -> Server:
    port = free_port()
    env = {"MKG_RELEASE_DIR": str(release_root), "MKG_RATE_LIMIT_PER_MINUTE": "1000000000",
           "MKG_RATE_LIMIT_BURST": "1000000000", "MKG_QUERY_TIMEOUT": "60", "MKG_RESPONSE_CACHE": "false"}
    if store_url:
        env["MKG_STORE_URL"] = store_url
    argv = [str(VENV / "gunicorn"), "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
            "--timeout", "120", "--log-level", "warning", "server.app:create_app()"]
    return Server("mkg-remote" if store_url else "mkg", argv, port, "/sparql", env=env, deref="data",
                  log=work / ("mkg-remote.log" if store_url else "mkg.log"))


_RDFLIB_APP = """
import sys, rdflib, uvicorn
from rdflib_endpoint import SparqlEndpoint
g = rdflib.Graph()
for path in sys.argv[2:]:
    g.parse(path, format="nt" if path.endswith(".nt") else "turtle")
uvicorn.run(SparqlEndpoint(graph=g, path="/sparql"), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def start_rdflib(release: Path, work: Path) -> Server:
    port = free_port()
    files = [str(release / name) for name in GRAPHS]
    return Server("rdflib", [str(VENV / "python"), "-c", _RDFLIB_APP, str(port), *files], port, "/sparql",
                  log=work / "rdflib.log")


# --- measurements ----------------------------------------------------------------------------

def sparql_path(server: Server, query: Query) -> str:
    return server.sparql_path + "?" + urlencode({"query": query.text})


def deref_path(server: Server, local: str) -> tuple[str, str]:
    if server.deref == "data":
        return f"/data/{local}", "text/turtle"
    return server.sparql_path + "?" + urlencode({"query": f"DESCRIBE <{BASE}id/{local}>"}), "text/turtle"


def count_results(content_type: str, body: bytes) -> int:
    media = content_type.split(";")[0].strip()
    if "json" in media and "ld+json" not in media:
        data = json.loads(body)
        return int(data["boolean"]) if "boolean" in data else len(data["results"]["bindings"])
    import pyoxigraph as ox

    fmt = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.N_TRIPLES
    if body.lstrip().startswith(b"<?xml") and b"<rdf:RDF" in body[:2000]:
        fmt = ox.RdfFormat.RDF_XML  # rdflib-endpoint labels RDF/XML graphs as SPARQL XML results
    return len(list(ox.parse(body, format=fmt)))


def single_client(server: Server, queries: list[Query], reps: int) -> tuple[dict, dict, dict]:
    """Median latency (ms) and result count of each query, one request at a time.

    A query whose first answer takes more than ``SLOW_SECONDS`` is timed once (bounded run).
    """
    latency, counts, errors = {}, {}, {}
    for query in queries:
        path = sparql_path(server, query)
        try:
            started = time.perf_counter()
            status, ctype, body = get(server.port, path, query.accept)
            first = time.perf_counter() - started
            if status != 200:
                errors[query.name] = f"HTTP {status}: {body[:200]!r}"
                continue
            counts[query.name] = count_results(ctype, body)
            times = [first] if first > SLOW_SECONDS else []
            if not times:
                for _ in range(2):  # warm-up (every worker)
                    get(server.port, path, query.accept)
                for _ in range(reps):
                    started = time.perf_counter()
                    get(server.port, path, query.accept)
                    times.append(time.perf_counter() - started)
        except (OSError, ValueError, SyntaxError) as exc:
            errors[query.name] = f"{type(exc).__name__}: {exc}"
            continue
        latency[query.name] = round(statistics.median(times) * 1000, 3)
    return latency, counts, errors


def wrk(server: Server, lines: list[str], clients: int, seconds: int, work: Path, tag: str) -> dict:
    requests = work / f"requests-{server.name}-{tag}.tsv"
    requests.write_text("\n".join(lines) + "\n")
    argv = ["wrk", "-t", str(min(2, clients)), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "30s",
            "-s", str(ROOT / "benchmarks" / "mix.lua"), f"http://127.0.0.1:{server.port}", "--", str(requests)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    rps = summary["requests"] / (summary["duration_us"] / 1e6)
    errors = sum(v for k, v in summary.items() if k.startswith("errors_"))
    return {"rps": round(rps, 1), "p50_ms": round(summary["p50_us"] / 1000, 3),
            "p99_ms": round(summary["p99_us"] / 1000, 3), "errors": errors, "requests": summary["requests"]}


def warm_all(server: Server, clients: int = 8) -> None:
    """Send ``clients`` concurrent probes so every worker (and its query pool) is up."""
    from concurrent.futures import ThreadPoolExecutor

    probe = server.sparql_path + "?" + urlencode({"query": "ASK { ?s ?p ?o }"})
    for _ in range(3):
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda _: get(server.port, probe, "application/sparql-results+json"), range(clients)))


def measure(server: Server, queries: list[Query], iris: list[str], args, work: Path, load_extra: float) -> dict:
    server.wait_ready()
    warm_all(server)
    result = {"load_s": round(time.monotonic() - server.started + load_extra, 2)}
    result["memory_after_load"] = memory(server.pids())
    latency, counts, errors = single_client(server, queries, args.reps)
    result.update(latency_ms=latency, counts=counts, errors=errors)
    deref_lat = []
    for local in iris:
        path, accept = deref_path(server, local)
        started = time.perf_counter()
        status, _, _ = get(server.port, path, accept)
        deref_lat.append(time.perf_counter() - started)
        if status != 200:
            errors[f"deref {local}"] = f"HTTP {status}"
    result["deref_median_ms"] = round(statistics.median(deref_lat) * 1000, 3)
    mix_lines = [f"GET\t{sparql_path(server, q)}\t{q.accept}" for q in queries
                 if q.in_mix and q.name not in errors]
    deref_lines = ["GET\t{}\t{}".format(*deref_path(server, local)) for local in iris]
    result["throughput"] = {}
    for clients in args.clients:
        result["throughput"][f"mix_c{clients}"] = wrk(server, mix_lines, clients, args.seconds, work, "mix")
        result["throughput"][f"deref_c{clients}"] = wrk(server, deref_lines, clients, args.seconds, work, "deref")
    result["memory_after_load_test"] = memory(server.pids())
    return result


# --- one size --------------------------------------------------------------------------------

def ensure_release(size: str, seed: int, work: Path) -> Path:
    root = work / "release"
    if not (root / "current" / "manifest.json").exists():
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run([str(VENV / "mkg"), "synth", "--triples", str(SIZES[size]), "--seed", str(seed),
                        "--out", str(root), "--format", "release"], check=True, cwd=ROOT)
    return root


def run_size(size: str, args) -> dict:
    work = Path(args.workdir) / f"{size}-seed{args.seed}"
    work.mkdir(parents=True, exist_ok=True)
    release_root = ensure_release(size, args.seed, work)
    release = (release_root / "current").resolve()
    manifest = json.loads((release / "manifest.json").read_text())
    queries, iris = mix(args.seed), deref_iris(args.seed)
    out = {"triples": manifest["counts"]["triples"], "queries": {q.name: q.text for q in queries},
           "mix": [q.name for q in queries if q.in_mix], "systems": {}}
    for name in args.systems:
        print(f"[{size}] {name} ...", flush=True)
        server, extra = None, 0.0
        try:
            if name == "oxigraph":
                db, extra = oxigraph_db(release, work)
                server = start_oxigraph(db, work)
            elif name == "mkg":
                server = start_mkg(release_root, work)
            elif name == "rdflib":
                server = start_rdflib(release, work)
            elif name == "mkg-remote":
                if not (ROOT / "server" / "remote.py").exists():
                    print("  skipped: server/remote.py is not there yet")
                    continue
                db, extra = oxigraph_db(release, work)
                backend = start_oxigraph(db, work)
                backend.wait_ready()
                server = start_mkg(release_root, work, f"http://127.0.0.1:{backend.port}/query")
                server.others.append(backend)
            out["systems"][name] = measure(server, queries, iris, args, work, extra)
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            out["systems"][name] = {"failed": f"{type(exc).__name__}: {exc}"}
        finally:
            if server is not None:
                server.stop()
        print(f"  {json.dumps(summary_line(out['systems'][name]))}", flush=True)
    out["ratios"] = ratios(out["systems"], {q.name for q in queries if q.in_mix})
    out["count_mismatches"] = mismatches(out["systems"], queries)
    return out


def summary_line(result: dict) -> dict:
    if "failed" in result:
        return result
    tp = result["throughput"]
    return {"load_s": result["load_s"], "pss_mb": result["memory_after_load"]["pss"] // 2**20,
            "pss_after_test_mb": result["memory_after_load_test"]["pss"] // 2**20,
            "geo_ms": geomean(result["latency_ms"].values()),
            **{k: v["rps"] for k, v in tp.items()}, "errors": len(result["errors"])}


def geomean(values) -> float:
    values = [v for v in values if v > 0]
    return round(math.exp(sum(math.log(v) for v in values) / len(values)), 3) if values else float("nan")


def ratios(systems: dict, mix_names: set[str]) -> dict:
    """Each system against Oxigraph (latency: lower is better; throughput: higher is better)."""
    ref = systems.get("oxigraph")
    if not ref or "failed" in ref:
        return {}
    out = {}
    for name, res in systems.items():
        if name == "oxigraph" or "failed" in res:
            continue
        common = [q for q in res["latency_ms"] if q in ref["latency_ms"] and q in mix_names]
        r = {"latency_geomean": geomean(res["latency_ms"][q] / ref["latency_ms"][q] for q in common),
             "pss": round(res["memory_after_load_test"]["pss"] / ref["memory_after_load_test"]["pss"], 2),
             "pss_after_load": round(res["memory_after_load"]["pss"] / ref["memory_after_load"]["pss"], 2),
             "rss": round(res["memory_after_load"]["rss"] / ref["memory_after_load"]["rss"], 2),
             "load": round(res["load_s"] / ref["load_s"], 2)}
        for key, value in res["throughput"].items():
            r[f"throughput_{key}"] = round(value["rps"] / ref["throughput"][key]["rps"], 2)
        r["per_query_latency"] = {q: round(res["latency_ms"][q] / ref["latency_ms"][q], 2) for q in common}
        out[name] = r
    if "mkg" in systems and "rdflib" in systems and "failed" not in systems["mkg"] and "failed" not in systems["rdflib"]:
        out["mkg_vs_rdflib"] = {key: round(value["rps"] / systems["rdflib"]["throughput"][key]["rps"], 2)
                                for key, value in systems["mkg"]["throughput"].items()}
    return out


def mismatches(systems: dict, queries: list[Query]) -> list[dict]:
    out = []
    for q in queries:
        counts = {name: res.get("counts", {}).get(q.name) for name, res in systems.items() if "failed" not in res}
        if len({c for c in counts.values() if c is not None}) > 1:
            out.append({"query": q.name, "counts": counts})
    return out


# --- report ----------------------------------------------------------------------------------

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def markdown(results: dict) -> str:
    lines = [f"Run of {results['date']} on {results['machine']['cpus']} CPUs "
             f"({results['machine']['platform']}); wrk {results['settings']['seconds']} s per point; "
             "no response cache.", ""]
    for size, res in results["sizes"].items():
        mix_names = set(res.get("mix", res["queries"]))
        lines += [f"### {size} ({res['triples']:,} triples)", "",
                  "| system | load s | PSS MB loaded | PSS MB after load test | RSS MB after load test | latency geomean ms | mix req/s c4 | mix req/s c8 | mix p99 ms c8 | deref req/s c8 | deref p99 ms c8 |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, r in res["systems"].items():
            if "failed" in r:
                lines.append(f"| {name} | failed: {r['failed']} |||||||")
                continue
            t = r["throughput"]
            lines.append(
                f"| {name} | {r['load_s']} | {r['memory_after_load']['pss'] // 2**20} "
                f"| {r['memory_after_load_test']['pss'] // 2**20} | {r['memory_after_load_test']['rss'] // 2**20} "
                f"| {geomean(v for q, v in r['latency_ms'].items() if q in mix_names)} | {t.get('mix_c4', {}).get('rps', '')} "
                f"| {t.get('mix_c8', {}).get('rps', '')} | {t.get('mix_c8', {}).get('p99_ms', '')} "
                f"| {t.get('deref_c8', {}).get('rps', '')} | {t.get('deref_c8', {}).get('p99_ms', '')} |")
        lines += ["", "Ratios to Oxigraph (latency: < 1 is faster; throughput and memory: as measured):", "",
                  "| system | latency geomean | mix c8 | deref c8 | PSS (after load test) | load |", "|---|---:|---:|---:|---:|---:|"]
        for name, r in res["ratios"].items():
            if name == "mkg_vs_rdflib":
                continue
            lines.append(f"| {name} | {r['latency_geomean']}x | {r.get('throughput_mix_c8', '')}x | "
                         f"{r.get('throughput_deref_c8', '')}x | {r['pss']}x | {r['load']}x |")
        if "mkg_vs_rdflib" in res["ratios"]:
            lines.append(f"\nmkg vs rdflib-endpoint throughput: {res['ratios']['mkg_vs_rdflib']}")
        names = list(res["systems"])
        lines += ["", "Median single-client latency per query (ms):", "",
                  "| query | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for q in res["queries"]:
            cells = [str(res["systems"][n].get("latency_ms", {}).get(q, res["systems"][n].get("errors", {}).get(q, "-")))[:40]
                     for n in names]
            lines.append(f"| {q} | " + " | ".join(cells) + " |")
        if res["count_mismatches"]:
            lines += ["", "Result counts that differ between systems:", ""]
            lines += [f"- `{m['query']}`: {m['counts']}" for m in res["count_mismatches"]]
        lines.append("")
    return "\n".join(lines)


def write_report(results: dict, doc: Path) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n{markdown(results)}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100k,1m", help="comma-separated: " + ", ".join(SIZES))
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=11, help="timed repetitions per query (single client)")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per point")
    parser.add_argument("--clients", default="4,8")
    parser.add_argument("--workdir", default="/tmp/mkg-bench")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latest.json"))
    parser.add_argument("--doc", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    args.systems = [s for s in args.systems.split(",") if s]
    args.clients = [int(c) for c in args.clients.split(",")]
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
               "settings": {"seed": args.seed, "reps": args.reps, "seconds": args.seconds, "clients": args.clients,
                            "mkg": "gunicorn --workers 2 --threads 4", "deref": "mkg: GET /data/{kind}/{slug} "
                            "(Accept: text/turtle); others: DESCRIBE <iri> as text/turtle"},
               "sizes": {}}
    for size in [s.strip().lower() for s in args.sizes.split(",") if s.strip()]:
        results["sizes"][size] = run_size(size, args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_report(results, Path(args.doc))
    print(f"wrote {args.out} and {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
