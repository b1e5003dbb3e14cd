"""Web tier: running the endpoint's queries in worker processes, with a timeout that stops them.

Owns :class:`QueryPool` and :class:`PooledStore`.

- One copy of the store for the whole pool ("zygote"): the pool starts one process (from a
  ``multiprocessing`` fork server, which is single-threaded) that loads the release once (the
  resolved version folder, so a pool restarted after a swap of ``release/current`` still serves
  the version the server started with) and then only waits on its control pipe. For each worker
  the pool asks it for, it calls ``os.fork()``: the worker inherits the loaded store
  copy-on-write and serves queries on a fresh socket pair, whose other end goes back to the pool
  with a pidfd of the worker (SCM_RIGHTS). The zygote reaps its workers (``waitpid``); workers
  die with the zygote and the zygote with the fork server (``PR_SET_PDEATHSIG``), which exits
  with the web process. If the zygote dies, the next worker start loads a new one.
- A worker evaluates queries in a thread with a large stack and serializes the result to bytes
  with pyoxigraph's serializers. Only bytes cross the pipe.
- The request thread waits for the answer until the query's deadline; past it the worker is
  killed (``SIGKILL``: its CPU use stops at once), a replacement is started, and the request
  gets :class:`~limits.QueryTimeout` (503 + ``Retry-After``). No partial result is ever sent.
- Admission: ``QUERY_WORKERS`` main workers take queries with the full ``QUERY_TIMEOUT``.
  When all are busy, a query goes to one of ``FAST_LANE_WORKERS`` reserved workers with the
  short ``FAST_LANE_TIMEOUT``, so long queries can never starve short ones. When every worker
  is busy the query waits, and the wait counts against its budget.
- A result above ``MAX_ROWS`` rows (solutions or triples) is refused (422), never cut.
- A worker that dies under a query is replaced; that request gets :class:`~limits.Unavailable`.

:class:`PooledStore` is the :class:`store.Store` the app serves: pages and dereferencing use
the in-process store; :meth:`PooledStore.execute` (the ``/sparql`` endpoint) checks the query
with :mod:`guard`, negotiates the format, and sends the query to the pool.

May import: config, formats, guard, limits, store, stdlib (pyoxigraph only in the workers).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import signal
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing import reduction
from multiprocessing.connection import Connection
from pathlib import Path

from . import formats, guard
from .limits import QueryTimeout, Refused, Unavailable
from .store import Answer, LocalStore, QueryError, Store, open_release, prefixes

__all__ = ["Job", "PooledStore", "QueryPool", "Settings"]

_RESULTS_FORMS = ("SELECT", "ASK")
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RESTART_BACKOFF = 1.0


@dataclass(frozen=True)
class Settings:
    """The pool's knobs (from the app config; see docs/limits.md)."""

    workers: int = 2
    fast_lane_workers: int = 1
    timeout: float = 5.0
    fast_lane_timeout: float = 1.0
    spare_workers: int = 1
    preempt_after: float = 0.25
    max_rows: int = 100_000
    start_timeout: float = 120.0
    stack_bytes: int = 256 * 1024 * 1024
    max_private_bytes: int = 0  # a worker above this is replaced by a fresh fork (0: never)
    check_after: float = 0.1  # seconds of query time between two measurements of a worker

    @classmethod
    def from_config(cls, config) -> "Settings":
        return cls(
            workers=int(config["QUERY_WORKERS"]),
            fast_lane_workers=int(config.get("FAST_LANE_WORKERS", 1)),
            timeout=float(config["QUERY_TIMEOUT"]),
            fast_lane_timeout=float(config.get("FAST_LANE_TIMEOUT", 1.0)),
            spare_workers=int(config.get("SPARE_WORKERS", 1)),
            preempt_after=float(config.get("FAST_LANE_PREEMPT_AFTER", 0.25)),
            max_rows=int(config["MAX_ROWS"]),
            start_timeout=float(config.get("WORKER_START_TIMEOUT", 120.0)),
            stack_bytes=int(config.get("WORKER_STACK_MB", 256)) * 1024 * 1024,
            max_private_bytes=int(config.get("WORKER_MAX_PRIVATE_MB", 0)) * 1024 * 1024,
            check_after=float(config.get("WORKER_CHECK_AFTER", 0.1)),
        )


@dataclass(frozen=True)
class Job:
    """One query for a worker: the text, its form, the format key, the protocol dataset."""

    query: str
    form: str
    format_key: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    max_rows: int = 100_000
    own_dataset: bool = False  # the query has FROM / FROM NAMED: the engine must honour them


# --- worker side -----------------------------------------------------------------------------

class _EvaluatingStore(LocalStore):
    """The worker's store: evaluates a query and serializes its result, row limit included."""

    def evaluate(self, job: Job):
        options: dict[str, object] = {"use_default_graph_as_union": not job.own_dataset}
        if job.default_graphs or job.named_graphs:
            import pyoxigraph as ox

            options = {
                "default_graph": [ox.NamedNode(g) for g in job.default_graphs]
                or ox.DefaultGraph(),
                "named_graphs": [ox.NamedNode(g) for g in job.named_graphs],
            }
        return self._query(job.query, **options)

    def answer(self, job: Job) -> tuple:
        import pyoxigraph as ox

        result = self.evaluate(job)
        offered = formats.RESULTS if job.form in _RESULTS_FORMS else formats.GRAPH
        fmt = formats.by_key(job.format_key, offered)
        if isinstance(result, ox.QueryBoolean):
            return ("ok", result.serialize(format=_results_format(fmt)), 1)
        if fmt is None:
            return ("form", "The query form could not be determined from its text.")
        if isinstance(result, ox.QueryTriples):
            triples = list(islice(result, job.max_rows + 1))
            if len(triples) > job.max_rows:
                return ("rows", job.max_rows)
            return ("ok", _serialize_triples(triples, fmt, self.iris), len(triples))
        rows = list(islice(result, job.max_rows + 1))
        if len(rows) > job.max_rows:
            return ("rows", job.max_rows)
        return ("ok", _serialize_solutions(result.variables, rows, fmt), len(rows))


def _results_format(fmt):
    import pyoxigraph as ox

    return ox.QueryResultsFormat.from_media_type(fmt.media_type)


def _serialize_triples(triples, fmt, iris) -> bytes:
    import pyoxigraph as ox

    rdf_format = ox.RdfFormat.from_media_type(fmt.media_type)
    options = {}
    if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML):
        options["prefixes"] = prefixes(iris)
    return ox.serialize(triples, format=rdf_format, **options) or b""


def _json_term(term) -> dict:
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype and term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                        "predicate": _json_term(term.predicate),
                                        "object": _json_term(term.object)}}


def _serialize_solutions(variables, rows, fmt) -> bytes:
    """Solutions already counted, written with pyoxigraph's serializer for ``fmt``.

    The rows were materialized to count them, so they are handed back to pyoxigraph through
    SPARQL JSON (which it parses) and serialized in the requested format.
    """
    import pyoxigraph as ox

    names = [v.value for v in variables]
    bindings = []
    for row in rows:
        binding = {}
        for name in names:
            value = row[name]
            if value is not None:
                binding[name] = _json_term(value)
        bindings.append(binding)
    document = json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}})
    parsed = ox.parse_query_results(document.encode("utf-8"),
                                    format=ox.QueryResultsFormat.JSON)
    return parsed.serialize(format=_results_format(fmt)) or b""


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the server process dies (best effort)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _private_bytes() -> int:
    """Memory this process no longer shares with the zygote (``Private_Dirty``; ~8 ms at 1M
    triples, so it is read only after enough query time)."""
    with open("/proc/self/smaps_rollup", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("Private_Dirty:"):
                return int(line.split()[1]) * 1024
    return 0


def _serve(conn: Connection, store: _EvaluatingStore, max_private: int, check_after: float):
    """Answer jobs; each reply is ``(answer, retire)``. Reading the shared store writes to it
    (pyoxigraph updates reference counts), so a worker's private copy of the pages it touched
    grows with the queries it runs: past ``max_private`` bytes (when not 0) it asks to be
    replaced."""
    conn.send(("ready", os.getpid()))
    busy = 0.0
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        started = time.monotonic()
        try:
            reply = store.answer(job)
        except QueryError as exc:
            reply = ("query", str(exc))
        busy += time.monotonic() - started
        retire = False
        if max_private and busy >= check_after:
            busy = 0.0
            retire = _private_bytes() > max_private
        conn.send((reply, retire))


def _reap() -> None:
    """Collect the exit status of every finished worker (no zombies are left behind)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _zygote_main(control: Connection, release_path: str, base_iri: str, stack_bytes: int,
                 max_private: int, check_after: float) -> None:
    """Entry point of the zygote: load the release once, then fork a worker per request.

    The zygote never runs a query and never starts a thread, so forking it is safe. For each
    ``"fork"`` message it makes a socket pair, forks, and sends back ``("forked", pid)``
    followed by two descriptors (SCM_RIGHTS): the pool's end of the pair and a pidfd of the
    worker (so the pool can kill and wait for a process that is not its child).
    """
    from .store import ReleaseError

    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        store = _EvaluatingStore(open_release(release_path, base_iri))
    except ReleaseError as exc:
        control.send(("failed", str(exc)))
        return
    control.send(("ready", os.getpid()))
    zygote = os.getpid()
    while True:
        _reap()
        try:
            if not control.poll(1.0):
                continue
            control.recv()
        except (EOFError, OSError):
            return
        ours, theirs = multiprocessing.Pipe(duplex=True)
        pid = os.fork()
        if pid == 0:  # the worker: shares the loaded store with the zygote, copy-on-write
            try:
                control.close()
                ours.close()
                _die_with_parent()
                if os.getppid() != zygote:  # the zygote died before prctl took effect
                    os._exit(1)
                threading.stack_size(stack_bytes)
                thread = threading.Thread(target=_serve,
                                          args=(theirs, store, max_private, check_after))
                thread.start()
                thread.join()
            finally:
                os._exit(0)
        theirs.close()
        pidfd = os.pidfd_open(pid)
        try:
            control.send(("forked", pid))
            with socket.fromfd(control.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                reduction.sendfds(sock, [ours.fileno(), pidfd])
        except OSError:
            return
        finally:
            ours.close()
            os.close(pidfd)


# --- parent side -----------------------------------------------------------------------------

@dataclass(eq=False)
class _Worker:
    lane: str  # "main", "fast" or "spare" (started and ready, takes the place of a killed one)
    state: str = "new"  # new, starting, idle, busy, dead
    busy_since: float = 0.0
    preempted: bool = False
    conn: Connection | None = None
    pid: int | None = None
    pidfd: int | None = None  # kills and waits for the process (a child of the zygote, not ours)
    generation: int = 0  # bumped by every start and stop: a start that finds it changed is stale
    error: str | None = field(default=None, repr=False)


def _context():
    """The zygote starts from a fork server that has already imported this module. The fork
    server is single-threaded, so forking it is safe (the web process may already run threads)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


def _kill(pidfd: int, wait: float = 5.0) -> None:
    """SIGKILL the process of ``pidfd`` and wait until it has exited; closes ``pidfd``."""
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        select.select([pidfd], [], [], wait)  # readable once the process has exited
    except ProcessLookupError:
        pass
    finally:
        os.close(pidfd)


def _exited(pidfd: int | None) -> bool:
    """Whether the process of ``pidfd`` has exited (a poll that never blocks)."""
    return pidfd is None or bool(select.select([pidfd], [], [], 0)[0])


class _Zygote:
    """The pool's handle on its zygote process: started on first use, asked for workers."""

    def __init__(self, ctx, args: tuple, start_timeout: float):
        self._ctx, self._args, self._start_timeout = ctx, args, start_timeout
        self._lock = threading.Lock()  # one request on the control pipe at a time
        self.process: multiprocessing.process.BaseProcess | None = None
        self._control: Connection | None = None
        self.closed = False

    def _start(self) -> Connection:
        ours, theirs = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=_zygote_main, name="mkg-query-zygote", daemon=True,
                                    args=(theirs, *self._args))
        process.start()
        theirs.close()
        self.process, self._control = process, ours
        try:
            ready = ours.poll(self._start_timeout)
            message = ours.recv() if ready else ("failed", "did not load the release in time")
        except (EOFError, OSError):
            message = ("failed", "exited while loading the release")
        if message[0] != "ready":
            self.stop()
            raise OSError(f"the query zygote failed: {message[1]}")
        return ours

    def fork(self) -> tuple[int, int, Connection]:
        """A new worker: its pid, a pidfd, and the connection to it. Starts the zygote (loads the
        release) when it is not running.

        :raises OSError: the zygote could not start, or died.
        """
        with self._lock:
            try:
                if self.closed:
                    raise OSError("the pool is closed")
                control = self._control or self._start()
                if self.closed:  # closed while it was loading
                    raise OSError("the pool is closed")
                control.send("fork")
                if not control.poll(self._start_timeout):
                    raise OSError("the query zygote did not answer")
                _, pid = control.recv()
                with socket.fromfd(control.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    fd, pidfd = reduction.recvfds(sock, 2)
            except (EOFError, OSError, RuntimeError, TypeError) as exc:
                self.stop()
                raise OSError(f"the query zygote stopped: {exc}") from exc
            return pid, pidfd, Connection(fd)

    def close(self) -> None:
        """Stop the zygote for good."""
        self.closed = True
        self.stop()

    def stop(self) -> None:
        """Kill the zygote (its workers die with it); the next :meth:`fork` starts a new one."""
        process, control = self.process, self._control
        self.process = self._control = None
        if process is not None:
            if process.is_alive():
                try:
                    os.kill(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            process.join(5)
        if control is not None:
            control.close()


class QueryPool:
    """Worker processes that answer :class:`Job` values, each under a deadline."""

    def __init__(self, release_path: str | Path, base_iri: str, settings: Settings):
        self.release_path = str(Path(release_path).resolve())
        self.base_iri = base_iri
        self.settings = settings
        self.restarts = 0
        self.timeouts = 0
        self.recycled = 0
        self._ctx = _context()
        self._zygote: _Zygote | None = None
        self._cond = threading.Condition()
        self._workers: list[_Worker] = []
        self._queue: deque[object] = deque()  # waiting queries, first come first served
        self._owner: int | None = None
        self._closed = False

    # lifecycle -----------------------------------------------------------------------------

    def start(self, wait: bool = False) -> None:
        """Start the zygote and the workers (once per process); with ``wait``, until all are
        ready.

        :raises Unavailable: ``wait`` and the workers are not ready in ``start_timeout``.
        """
        with self._cond:
            if self._owner != os.getpid() or self._closed:  # first use, after a fork or close
                self._owner = os.getpid()
                self._closed = False
                args = (self.release_path, self.base_iri, self.settings.stack_bytes,
                        self.settings.max_private_bytes, self.settings.check_after)
                self._zygote = _Zygote(self._ctx, args, self.settings.start_timeout)
                lanes = (["main"] * self.settings.workers
                         + ["fast"] * self.settings.fast_lane_workers
                         + ["spare"] * self.settings.spare_workers)
                self._workers = [_Worker(lane) for lane in lanes]
                for worker in self._workers:
                    self._spawn(worker)
        if wait:
            self._wait_ready(time.monotonic() + self.settings.start_timeout)

    def _wait_ready(self, deadline: float) -> None:
        with self._cond:
            while any(w.state in ("new", "starting") for w in self._workers):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Unavailable("The query workers did not start in time.",
                                      retry_after=5, reason="starting")
                self._cond.wait(remaining)

    def close(self) -> None:
        """Stop every worker and the zygote."""
        with self._cond:
            self._closed = True
            mine = self._owner == os.getpid()
            workers = list(self._workers) if mine else []
            zygote = self._zygote if mine else None
            self._cond.notify_all()
        for worker in workers:
            # a request thread reading a busy worker's pipe closes it itself: it sees EOF once
            # the process is gone (closing it under its feet would break the read)
            self._stop(worker, leave_busy_pipe=True)
        if zygote is not None:
            zygote.close()

    def _spawn(self, worker: _Worker) -> None:
        """Ask the zygote for a process for ``worker``, in a thread (caller holds the lock)."""
        worker.generation += 1
        worker.state, worker.conn, worker.pid, worker.pidfd = "starting", None, None, None
        threading.Thread(target=self._start_worker, args=(worker, worker.generation, self._zygote),
                         daemon=True, name="mkg-query-start").start()

    def _start_worker(self, worker: _Worker, generation: int, zygote: _Zygote) -> None:
        conn = pidfd = None
        try:
            pid, pidfd, conn = zygote.fork()
            ready = conn.poll(self.settings.start_timeout)
            message = conn.recv() if ready else ("failed", "did not start in time")
        except (EOFError, OSError) as exc:
            message = ("failed", str(exc) or "exited while starting")
        with self._cond:
            if worker.generation == generation and not self._closed:
                if message[0] == "ready":
                    worker.state, worker.error = "idle", None
                    worker.conn, worker.pid, worker.pidfd = conn, pid, pidfd
                    self._cond.notify_all()
                    return
                worker.state, worker.error = "dead", str(message[1])
                self._cond.notify_all()
                stale = False
            else:
                stale = True
        if pidfd is not None:
            _kill(pidfd)
        if conn is not None:
            conn.close()
        if stale:
            return
        time.sleep(_RESTART_BACKOFF)
        with self._cond:
            if self._closed or worker.generation != generation:
                return
            self.restarts += 1
            self._spawn(worker)

    def _stop(self, worker: _Worker, keep_state: bool = False, leave_busy_pipe: bool = False) -> None:
        with self._cond:
            pidfd, conn = worker.pidfd, worker.conn
            if leave_busy_pipe and worker.state == "busy":
                conn = None
            else:
                worker.conn = None
            worker.pidfd = None
            worker.generation += 1
            if not keep_state:
                worker.state = "dead"
        if pidfd is not None:
            _kill(pidfd)
        if conn is not None:
            conn.close()

    def _promote_spare(self, worker: _Worker) -> None:
        """Give ``worker``'s lane to an idle spare (caller holds the lock); it becomes a spare."""
        if worker.lane == "spare":
            return
        for spare in self._workers:
            if spare.lane == "spare" and spare.state == "idle":
                spare.lane, worker.lane = worker.lane, "spare"
                self._cond.notify_all()
                return

    def _replace(self, worker: _Worker, recycle: bool = False) -> None:
        """Kill ``worker``'s process (if alive); a spare takes its lane; fork a fresh one."""
        with self._cond:
            self._promote_spare(worker)
        self._stop(worker)
        with self._cond:
            if recycle:
                self.recycled += 1
            else:
                self.restarts += 1
            worker.preempted = False
            if not self._closed and worker in self._workers:  # not a worker of a closed pool
                self._spawn(worker)

    def _preempt(self) -> bool:
        """Stop the fast-lane query that has run past ``preempt_after`` if a spare is ready.

        Caller holds the lock. The preempted request gets :class:`~limits.Unavailable`.
        """
        now = time.monotonic()
        spare_ready = any(w.lane == "spare" and w.state == "idle" for w in self._workers)
        for worker in self._workers:
            if (spare_ready and worker.lane == "fast" and worker.state == "busy"
                    and not worker.preempted
                    and now - worker.busy_since > self.settings.preempt_after):
                worker.preempted = True
                self._promote_spare(worker)
                if worker.pidfd is not None:
                    try:
                        signal.pidfd_send_signal(worker.pidfd, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                return True
        return False

    # admission -----------------------------------------------------------------------------

    def _acquire(self, deadline: float) -> tuple[_Worker, float]:
        """A free worker and the deadline for this query on it (the fast lane's is shorter).

        :raises Unavailable: no worker became free before ``deadline``.
        """
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            try:
                return self._wait_turn(ticket, deadline)
            finally:
                self._queue.remove(ticket)
                self._cond.notify_all()

    def _wait_turn(self, ticket: object, deadline: float) -> tuple[_Worker, float]:
        """The admission loop of :meth:`_acquire` (caller holds the lock).

        Waiting queries are served first come, first served. A query arriving while every
        worker is busy may preempt a long fast-lane query, and then takes the freed lane.
        """
        arriving = True
        while True:
            if self._closed:
                raise Unavailable("The query service is shutting down.", retry_after=5,
                                  reason="closed")
            if self._queue[0] is ticket:
                taken = self._take_idle(deadline)
                if taken is not None:
                    return taken
            if arriving:
                arriving = False
                if self._preempt():
                    taken = self._take_idle(deadline)
                    if taken is not None:
                        return taken
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._busy()
            self._cond.wait(remaining)

    def _take_idle(self, deadline: float) -> tuple[_Worker, float] | None:
        """Mark an idle worker busy (main lane first); None when there is none. An idle worker
        whose process has exited (its zygote died, or it was killed) is replaced, not taken."""
        for lane in ("main", "fast"):
            for worker in self._workers:
                if worker.lane == lane and worker.state == "idle" and _exited(worker.pidfd):
                    self._promote_spare(worker)
                    if worker.conn is not None:
                        worker.conn.close()
                    if worker.pidfd is not None:
                        os.close(worker.pidfd)
                    self.restarts += 1
                    self._spawn(worker)
                    continue
                if worker.lane == lane and worker.state == "idle":
                    worker.state, worker.busy_since = "busy", time.monotonic()
                    if lane == "fast":
                        return worker, min(deadline,
                                           time.monotonic() + self.settings.fast_lane_timeout)
                    return worker, deadline
        return None

    def _busy(self) -> Unavailable:
        return Unavailable(
            "Every query worker is busy; the query waited its whole time budget "
            f"({self.settings.timeout:g} s) for one. Retry later.",
            retry_after=self.settings.timeout, reason="busy")

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if worker.state == "busy":
                worker.state = "idle"
            self._cond.notify_all()

    # running -------------------------------------------------------------------------------

    def run(self, job: Job, timeout: float | None = None) -> tuple[bytes, int]:
        """The serialized answer of ``job`` and its row count, within ``timeout`` seconds.

        :raises QueryTimeout: the budget ran out; the worker was killed and replaced.
        :raises Unavailable: no worker was free in time, or the worker died.
        :raises QueryError: the engine refused the query text.
        :raises Refused: the result has more than ``max_rows`` rows (422).
        """
        budget = self.settings.timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        self.start()
        worker, worker_deadline = self._acquire(deadline)
        try:
            conn = worker.conn
            conn.send(job)
            if not conn.poll(max(0.0, worker_deadline - time.monotonic())):
                self._on_timeout(worker, worker_deadline < deadline, budget)
            reply, retire = conn.recv()
        except (EOFError, OSError) as exc:
            preempted = worker.preempted
            self._replace(worker)
            if preempted:
                raise Unavailable(
                    "All query workers are busy with long queries; this query was stopped "
                    f"after {self.settings.preempt_after:g} s to let a newer one run. Retry "
                    "later.", retry_after=self.settings.timeout, reason="preempted") from exc
            raise Unavailable("The query worker stopped while running the query (it has been "
                              "replaced). Retry; if it happens again, simplify the query.",
                              retry_after=1, reason="worker_lost") from exc
        if retire:
            self._replace(worker, recycle=True)
        else:
            self._release(worker)
        return _unpack(reply)

    def _on_timeout(self, worker: _Worker, fast_lane: bool, budget: float) -> None:
        self._replace(worker)
        with self._cond:
            self.timeouts += 1
        if fast_lane:
            raise QueryTimeout(
                "All main query workers are busy with long queries, and this query did not "
                f"finish within the {self.settings.fast_lane_timeout:g} s allowed to queries "
                "while they are. It was stopped. Retry later.",
                retry_after=budget, reason="fast_lane")
        raise QueryTimeout(
            f"The query ran longer than the {budget:g} s limit and was stopped; no partial "
            "result is sent. Make the query more selective or add a LIMIT.",
            retry_after=budget, reason="timeout")

    def status(self) -> dict:
        """Per-worker state, pids, restarts and timeouts (for /health and /metrics)."""
        with self._cond:
            zygote = self._zygote.process if self._zygote is not None else None
            return {
                "started": self._owner == os.getpid(),
                "zygote": zygote.pid if zygote is not None else None,
                "workers": [{"lane": w.lane, "state": w.state, "pid": w.pid, "error": w.error}
                            for w in self._workers],
                "restarts": self.restarts,
                "recycled": self.recycled,
                "timeouts": self.timeouts,
            }

    def healthy(self) -> bool:
        """False when started and no worker is ready, busy or starting."""
        status = self.status()
        if not status["started"]:
            return True
        return any(w["state"] in ("idle", "busy", "starting") for w in status["workers"])


def _unpack(reply: tuple) -> tuple[bytes, int]:
    kind = reply[0]
    if kind == "ok":
        return reply[1] or b"", reply[2]
    if kind == "rows":
        raise Refused(
            f"The result has more than {reply[1]} rows, the most this endpoint returns. "
            "Nothing was cut: add a LIMIT (and OFFSET to page through it) or make the query "
            "more selective.", status=422, reason="too_many_rows")
    if kind == "query":
        raise QueryError(reply[1])
    raise Refused(str(reply[1]), reason=str(kind))


# --- the store the app serves ----------------------------------------------------------------

class PooledStore(Store):
    """The in-process store for pages, with the endpoint's queries sent to a :class:`QueryPool`."""

    def __init__(self, local: Store, pool: QueryPool, config):
        self.local = local
        self.pool = pool
        self.max_length = int(config["MAX_QUERY_LENGTH"])
        self.max_nesting = int(config["MAX_NESTING"])
        self.max_rows = int(config["MAX_ROWS"])
        self.allow_list = tuple(config.get("SERVICE_ALLOW_LIST") or ())

    @property
    def release(self):
        return self.local.release

    def __getattr__(self, name):
        return getattr(self.local, name)

    def execute(self, query, *, default_graphs=(), named_graphs=(), accept=None, format=None):
        """Check ``query``, negotiate, then run it in the pool (see :meth:`QueryPool.run`).

        :raises Refused: the policy refuses the query (400/403) or its result is too big (422).
        """
        info = guard.inspect_query(query, max_length=self.max_length,
                                   max_nesting=self.max_nesting,
                                   service_allow_list=self.allow_list)
        for graph in tuple(default_graphs) + tuple(named_graphs):
            guard.check_graph_iri(graph)
        results = info.form in _RESULTS_FORMS
        fmt = formats.negotiate(formats.RESULTS if results else formats.GRAPH, accept, format)
        job = Job(query, info.form, fmt.key, tuple(default_graphs), tuple(named_graphs),
                  self.max_rows, own_dataset=bool(info.dataset))
        body, _rows = self.pool.run(job)
        form = ("ask" if info.form == "ASK" else "select") if results else "graph"
        return Answer(body, fmt, form)

    def select(self, query):
        return self.local.select(query)

    def construct(self, queries, fmt, extra=()):
        return self.local.construct(queries, fmt, extra)

    def graph(self, name, fmt):
        return self.local.graph(name, fmt)

    def counts(self):
        return self.local.counts()
