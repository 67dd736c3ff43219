"""The run store (issue 8, first part): scenarios with versions, runs, recovery, migrations.

Each runs against an SQLite file and against a database on a real PostgreSQL server (Debian's
package, installed by scripts/install-system-deps.sh; tests/postgres.py starts it).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect

from labecon.errors import ScenarioError
from labecon.store import ConflictError, NotFoundError, Store, StoreError, default_url

AMODEI = "extends: amodei\n"
PLATEAU = "extends: amodei\ngenerations: {max_training_cost: $1B}\n"


@pytest.fixture
def store(url: str) -> Store:
    return Store(url)


def test_a_new_store_is_migrated_to_the_shipped_schema(url: str) -> None:
    store = Store(url)
    assert store.revision() == "0002"
    tables = set(inspect(store.engine).get_table_names())
    assert {"scenarios", "scenario_versions", "runs", "alembic_version"} <= tables
    again = Store(url)  # opening again migrates nothing and loses nothing
    assert again.revision() == "0002"


def test_a_store_at_the_first_schema_is_upgraded_keeping_its_runs(url: str) -> None:
    """Alembic brings a 0001 store (no monthly fans) to 0002; its scenarios and runs stay."""
    from alembic import command
    from alembic.config import Config

    from labecon.store import MIGRATIONS

    old = Store(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert old.revision() == "0001"
    assert "result_monthly" not in {c["name"] for c in inspect(old.engine).get_columns("runs")}
    with old.engine.begin() as connection:  # a run as labecon stored it at schema 0001
        connection.exec_driver_sql(
            "INSERT INTO scenarios (id, name, created_at) VALUES (1, 'mine', '2026-01-01')"
        )
        connection.exec_driver_sql(
            "INSERT INTO scenario_versions (id, scenario_id, number, text, created_at) "
            "VALUES (1, 1, 1, 'extends: amodei', '2026-01-01')"
        )
        connection.exec_driver_sql(
            "INSERT INTO runs (id, scenario_name, version_id, scenario_text, samples, seed, "
            "labecon_version, status, created_at, result_json) VALUES ('r1', 'mine', 1, "
            "'extends: amodei', 10, 3, '0.1', 'complete', '2026-01-01', '{\"ok\": 1}')"
        )
    old.engine.dispose()
    upgraded = Store(url)
    assert upgraded.revision() == "0002"
    assert upgraded.get_scenario("mine").text == "extends: amodei"
    assert upgraded.run_result("r1") == ('{"ok": 1}', None)
    with pytest.raises(NotFoundError, match="r1 has no monthly fans"):
        upgraded.run_monthly("r1")


def test_sqlite_folders_are_created(tmp_path: Path) -> None:
    Store(f"sqlite:///{tmp_path / 'deep' / 'er' / 'runs.db'}")
    assert (tmp_path / "deep" / "er" / "runs.db").is_file()


def test_the_default_store_lives_in_the_user_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_url() == f"sqlite:///{tmp_path / 'labecon' / 'labecon.db'}"
    assert Store().revision() == "0002"
    assert (tmp_path / "labecon" / "labecon.db").is_file()


def test_scenarios_have_versions_and_a_stale_update_is_refused(store: Store) -> None:
    first = store.create_scenario("mine", AMODEI)
    assert (first.name, first.version, first.text) == ("mine", 1, AMODEI)
    second = store.update_scenario("mine", PLATEAU, expected_version=1)
    assert second.version == 2
    assert store.get_scenario("mine").text == PLATEAU
    assert store.get_scenario("mine", version=1).text == AMODEI
    with pytest.raises(
        ConflictError, match=r"version: 1 is not the latest version of 'mine' \(2\)"
    ):
        store.update_scenario("mine", AMODEI, expected_version=1)  # someone saved meanwhile
    with pytest.raises(NotFoundError, match="has no version 3; accepted: 1 to 2"):
        store.get_scenario("mine", version=3)
    with pytest.raises(ConflictError, match="a scenario 'mine' exists"):
        store.create_scenario("mine", AMODEI)
    store.create_scenario("other", AMODEI)
    assert [(s.name, s.version) for s in store.list_scenarios()] == [("mine", 2), ("other", 1)]


def test_an_invalid_scenario_is_refused_with_its_field_path(store: Store) -> None:
    with pytest.raises(ScenarioError) as caught:
        store.create_scenario("bad", "generations:\n  cost_multiplier: -3\n")
    assert [p.path for p in caught.value.problems] == ["generations.cost_multiplier"]
    with pytest.raises(ScenarioError, match="is not valid YAML"):
        store.create_scenario("bad", "generations: [\n")
    with pytest.raises(StoreError, match="name: '  ' is not accepted"):
        store.create_scenario("  ", AMODEI)
    assert store.list_scenarios() == []  # nothing half-stored


def test_a_run_is_queued_started_and_completed_with_its_whole_result(store: Store) -> None:
    store.create_scenario("mine", AMODEI)
    run = store.create_run("mine", samples=10, seed=3)
    assert (run.status, run.version, run.samples, run.seed) == ("queued", 1, 10, 3)
    assert store.start_run(run.id).status == "running"
    with pytest.raises(ConflictError, match="has no result"):
        store.run_result(run.id)
    done = store.complete_run(run.id, '{"ok": true}', b"PAR1")
    assert done.status == "complete" and done.finished_at is not None
    assert store.run_result(run.id) == ('{"ok": true}', b"PAR1")
    with pytest.raises(NotFoundError, match="has no monthly fans"):
        store.run_monthly(run.id)  # stored without them
    with pytest.raises(ConflictError, match="is complete; accepted: a run that is running"):
        store.complete_run(run.id, "{}", None)
    assert store.counts()["complete"] == 1
    other = store.create_run("mine", samples=10, seed=4)
    with pytest.raises(ConflictError, match="is queued, it has no result"):
        store.run_monthly(other.id)
    store.start_run(other.id)
    store.complete_run(other.id, "{}", None, '{"months": []}')
    assert store.run_monthly(other.id) == '{"months": []}'


def test_a_failed_result_write_leaves_the_run_running_and_without_result(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.create_scenario("mine", AMODEI)
    run = store.start_run(store.create_run("mine", samples=10, seed=3).id)

    class BoomError(Exception):
        pass

    def explode(*_: object) -> None:
        raise BoomError

    # The write fails inside the transaction, after the result and status were set on it.
    monkeypatch.setattr("labecon.store.utc_now", explode)
    with pytest.raises(BoomError):
        store.complete_run(run.id, '{"half": "written"}', b"x" * 1000)
    monkeypatch.undo()
    assert store.get_run(run.id).status == "running"
    with pytest.raises(ConflictError, match="is running, it has no result"):
        store.run_result(run.id)


def test_deleting_a_scenario_keeps_its_runs_readable(store: Store) -> None:
    store.create_scenario("mine", AMODEI)
    run = store.create_run("mine", samples=5, seed=1)
    store.delete_scenario("mine")
    with pytest.raises(NotFoundError, match="no scenario 'mine' in the store"):
        store.get_scenario("mine")
    assert store.list_scenarios() == []
    assert store.get_run(run.id).scenario_name == "mine"
    assert store.run_scenario_text(run.id) == AMODEI
    assert [r.id for r in store.list_runs("mine")] == [run.id]
    again = store.create_scenario("mine", PLATEAU)  # the name can be used again
    assert again.version == 2 and store.get_scenario("mine", 1).text == AMODEI


def test_unknown_runs_and_bad_transitions_are_refused(store: Store) -> None:
    store.create_scenario("mine", AMODEI)
    with pytest.raises(NotFoundError, match="no run 'nope'"):
        store.get_run("nope")
    run = store.create_run("mine", samples=5, seed=1)
    assert store.cancel_run(run.id).status == "cancelled"
    with pytest.raises(ConflictError, match="is cancelled; accepted: a run that is queued"):
        store.start_run(run.id)
    with pytest.raises(NotFoundError, match="no scenario 'missing'"):
        store.create_run("missing", samples=5, seed=1)


def test_a_run_killed_mid_way_is_marked_failed_when_the_store_opens_again(url: str) -> None:
    store = Store(url)
    store.create_scenario("mine", AMODEI)
    worker = textwrap.dedent(
        f"""
        import sys, time
        from labecon.store import Store
        store = Store({url!r})
        run = store.create_run("mine", samples=10, seed=1)
        store.start_run(run.id)
        print(run.id, flush=True)
        time.sleep(60)  # "computing": killed here
        """
    )
    process = subprocess.Popen([sys.executable, "-c", worker], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    run_id = process.stdout.readline().strip()
    assert store.get_run(run_id).status == "running"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    time.sleep(0.1)
    reopened = Store(url)
    assert reopened.recovered == 1
    failed = reopened.get_run(run_id)
    assert failed.status == "failed"
    assert f"the process that ran it (pid {process.pid}) stopped" in (failed.error or "")
    with pytest.raises(ConflictError, match="is failed, it has no result"):
        reopened.run_result(run_id)
    # A run of a live process is left alone.
    live = reopened.start_run(reopened.create_run("mine", samples=5, seed=2).id)
    assert Store(url).recovered == 0 and reopened.get_run(live.id).status == "running"


def test_runs_of_another_machine_are_left_to_it(url: str) -> None:
    """A team's store: a run that another machine runs is not judged by this machine's pids."""
    store = Store(url)
    store.create_scenario("mine", AMODEI)
    run = store.start_run(store.create_run("mine", samples=5, seed=1).id, pid=2**22 + 17)
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE runs SET owner_host = 'another-machine' WHERE id = '{run.id}'"
        )
    assert Store(url).recovered == 0 and store.get_run(run.id).status == "running"
    with store.engine.begin() as connection:  # the same dead pid on this machine: recovered
        connection.exec_driver_sql(f"UPDATE runs SET owner_host = NULL WHERE id = '{run.id}'")
    assert Store(url).recovered == 1 and store.get_run(run.id).status == "failed"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    """`labecon serve` on the store at ``url``, up and answering."""
    labecon = Path(sys.executable).with_name("labecon")
    server = subprocess.Popen(
        [str(labecon), "serve", "--db", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError("labecon serve did not answer within 30 s")


def _served(url: str) -> tuple[subprocess.Popen[bytes], str, int]:
    """`labecon serve` on a free port with scenario 'big' (baseline) stored: server, URL, port."""
    port = _free_port()
    server = _serve(url, port)
    base = f"http://127.0.0.1:{port}"
    httpx.post(base + "/api/scenarios", json={"name": "big", "text": "extends: baseline\n"})
    return server, base, port


def _mid_run(base: str) -> dict[str, Any]:
    """Start a long run of scenario 'big'; return it once it has done some chunks, not all."""
    run: dict[str, Any] = httpx.post(
        base + "/api/runs", json={"scenario": "big", "samples": 150_000}
    ).json()
    for _ in range(600):
        state = httpx.get(f"{base}/api/runs/{run['id']}").json()
        if state["status"] == "running" and state["done"] > 0:
            break
        time.sleep(0.05)
    assert state["status"] == "running" and 0 < state["done"] < 150_000
    return run


def test_a_server_killed_mid_run_leaves_the_run_failed_on_restart(url: str) -> None:
    """SIGKILL `labecon serve` while a run computes; the restarted server shows it failed."""
    server, base, port = _served(url)
    try:
        done = httpx.post(base + "/api/runs", json={"scenario": "big", "samples": 60, "seed": 1})
        run = _mid_run(base)
        finished = httpx.get(f"{base}/api/runs/{done.json()['id']}").json()
        assert finished["status"] == "complete"
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    restarted = _serve(url, port)
    try:
        # The run's worker process stops at its next chunk, or recovery finds it gone.
        after = _wait_for(base, run["id"], ("failed",))
        assert "interrupted" in after["error"]
        result = httpx.get(f"{base}/api/runs/{run['id']}/result")
        assert result.status_code == 409  # no half-written result
        kept = httpx.get(f"{base}/api/runs/{done.json()['id']}/result")
        assert kept.status_code == 200 and kept.json()["samples"] == 60  # the finished one stays
        assert httpx.get(base + "/api/scenarios/big").json()["version"] == 1
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)


def _wait_for(base: str, run_id: str, statuses: tuple[str, ...]) -> dict[str, object]:
    for _ in range(600):
        state: dict[str, object] = httpx.get(f"{base}/api/runs/{run_id}").json()
        if state["status"] in statuses:
            return state
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} stayed {state['status']}")


def test_a_worker_killed_mid_run_fails_its_run_and_the_server_goes_on(url: str) -> None:
    """SIGKILL the worker process of a run: the run is failed, the next run completes."""
    server, base, _port = _served(url)
    try:
        run = _mid_run(base)
        with Store(url).engine.connect() as connection:
            worker = connection.exec_driver_sql(
                f"SELECT owner_pid FROM runs WHERE id = '{run['id']}'"
            ).scalar_one()
        assert worker != server.pid  # the run is in a worker process, not in the server
        os.kill(worker, signal.SIGKILL)
        failed = _wait_for(base, run["id"], ("failed",))
        assert "the worker process running it stopped" in str(failed["error"])
        assert httpx.get(f"{base}/api/runs/{run['id']}/result").status_code == 409
        again = httpx.post(base + "/api/runs", json={"scenario": "big", "samples": 40, "seed": 2})
        done = _wait_for(base, again.json()["id"], ("complete", "failed"))
        assert done["status"] == "complete" and done["done"] == 40
        # A server stopped (SIGTERM) mid-run marks its run failed and exits at once.
        last = httpx.post(base + "/api/runs", json={"scenario": "big", "samples": 150_000}).json()
        _wait_for(base, last["id"], ("running",))
    finally:
        server.terminate()
        server.wait(timeout=30)
    stopped = Store(url).get_run(last["id"])
    assert stopped.status == "failed" and "the server stopped" in (stopped.error or "")
