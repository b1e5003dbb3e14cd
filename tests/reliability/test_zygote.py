"""The query pool's zygote: one loaded store, workers forked from it, replaced by a fork."""

from __future__ import annotations

import os
import signal
import time

import requests

from .conftest import make_app, running
from server.store import EXTENSION

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])


def _rollup(pid: int) -> dict[str, int]:
    """The kB lines of /proc/<pid>/smaps_rollup."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                out[key] = int(rest.split()[0])
    return out


def _count(url: str) -> requests.Response:
    return requests.get(f"{url}/sparql", params={"query": COUNT}, timeout=30)


def test_every_worker_is_a_fork_of_one_zygote_sharing_its_store(release_root):
    app = make_app(release_root)
    pool = app.extensions[EXTENSION].pool
    try:
        status = pool.status()
        zygote = status["zygote"]
        pids = [w["pid"] for w in status["workers"]]
        assert len(pids) == 4 and len(set(pids)) == 4 and zygote not in pids
        assert all(_parent(pid) == zygote for pid in pids)
        # a fresh worker has written almost nothing: the loaded store is the zygote's pages
        for pid in pids:
            rollup = _rollup(pid)
            assert rollup["Private_Dirty"] * 4 < rollup["Rss"]
            assert rollup["Pss"] < rollup["Rss"]
    finally:
        pool.close()


def test_workers_are_not_recycled_by_default(release_root):
    app = make_app(release_root, WORKER_CHECK_AFTER=0)
    pool = app.extensions[EXTENSION].pool
    with running(app) as url:
        before = [w["pid"] for w in pool.status()["workers"]]
        assert [_count(url).status_code for _ in range(3)] == [200, 200, 200]
        after = pool.status()
    assert after["recycled"] == 0
    assert [w["pid"] for w in after["workers"]] == before


def test_a_worker_over_its_private_memory_limit_is_replaced_by_a_fresh_fork(release_root):
    app = make_app(release_root, WORKER_MAX_PRIVATE_MB=1, WORKER_CHECK_AFTER=0)
    pool = app.extensions[EXTENSION].pool
    with running(app) as url:
        before = pool.status()
        response = _count(url)
        assert response.status_code == 200
        assert response.json()["results"]["bindings"][0]["n"]["value"] == "30001"
        pool.start(wait=True)
        after = pool.status()
        parents = {_parent(w["pid"]) for w in after["workers"]}
    assert parents == {after["zygote"]}
    assert after["recycled"] == 1 and after["restarts"] == 0
    assert after["zygote"] == before["zygote"]
    gone = {w["pid"] for w in before["workers"]} - {w["pid"] for w in after["workers"]}
    assert len(gone) == 1
    assert [w["lane"] for w in after["workers"]].count("main") == 2


def test_queries_are_answered_again_after_the_zygote_dies(release_root):
    app = make_app(release_root)
    pool = app.extensions[EXTENSION].pool
    with running(app) as url:
        first = pool.status()
        os.kill(first["zygote"], signal.SIGKILL)
        statuses = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            response = _count(url)
            statuses.append(response.status_code)
            if response.status_code == 200:
                break
        assert statuses[-1] == 200
        assert set(statuses) <= {200, 503}
        assert response.json()["results"]["bindings"][0]["n"]["value"] == "30001"
        pool.start(wait=True)
        now = pool.status()
        parents = {_parent(w["pid"]) for w in now["workers"] if w["state"] == "idle"}
    assert now["zygote"] not in (None, first["zygote"])
    assert parents == {now["zygote"]}
    assert not {w["pid"] for w in first["workers"]} & {w["pid"] for w in now["workers"]}
