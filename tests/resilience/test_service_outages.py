"""Drill (issue 14): Redis down 30 s, then Postgres restarted, under a load of mixed API requests.

A platform of its own (tests/support/outages.py): dedicated Postgres and Redis servers that the drill stops
and starts, the demo's data (one EOD day, the demo tenants), and the production processes on the production
settings: gunicorn, a Celery worker and beat. Four threads read all the time (token auth, curve reads, v2
lists, the probes) while a fifth submits a scenario run every two seconds; every run that succeeds is an
event (``scenario.run.succeeded``) that a webhook endpoint subscribed to delivers to a receiver on loopback.

What must hold (docs/operations.md, "When Redis or Postgres goes away"):
- Redis down: reads, token auth and run submissions keep answering 200/201 (cache, rate limits and usage
  meters fail open); readiness says 503; nothing answers 500 and nothing hangs. After Redis is back every
  kind answers again without a restart, and every run submitted meanwhile runs and is delivered once.
- Postgres restarting: what needs the database answers a 503 problem, never a 500 or a hang; after it is back
  the same processes answer again (stale connections dropped), the runs in flight finish, none stays queued
  or running, each is delivered once.

Timings are recorded (var/drills/service-outages.json, docs/performance.md), never asserted; a request the
client gave up on after HANG_SECONDS counts as a hang.
"""

from __future__ import annotations

import itertools
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.outages import Answer, Load, OutageStack, summary
from tests.support.scenarios import wait_for
from tests.support.webhooks import Receiver

pytestmark = [pytest.mark.live, pytest.mark.drill, pytest.mark.slow, pytest.mark.timeout(2400)]

REPORT = Path(__file__).resolve().parents[2] / "var" / "drills" / "service-outages.json"
READS = ("me", "curves", "curve", "scenarios", "live", "ready_web")
PROBES = ("ready", "ready_web")  # health JSON, not problems
REDIS_DOWN_SECONDS = 30
POSTGRES_DOWN_SECONDS = 5


class Platform:
    """The stack plus what the load needs: tokens, a curve, a scenario, the receiver, the runs submitted."""

    def __init__(self, stack: OutageStack, receiver: Receiver) -> None:
        self.stack, self.receiver = stack, receiver
        users = stack.users()
        self.reader = {"Authorization": f"Bearer {users['analyst@acme.example']['token']}"}
        self.admin = {"Authorization": f"Bearer {users['admin@acme.example']['token']}"}
        with httpx.Client(base_url=stack.url, timeout=60) as client:
            curves = client.get("/api/v2/curves", params={"limit": 1}, headers=self.reader)
            assert curves.status_code == 200, curves.text
            self.curve_key = curves.json()["data"][0]["curve_key"]
            scenarios = client.get("/api/v2/scenarios", headers=self.reader)
            assert scenarios.status_code == 200, scenarios.text
            self.scenario_id = scenarios.json()["data"][0]["id"]
            endpoint = client.post(
                "/api/v2/webhooks",
                json={"url": receiver.url, "events": ["scenario.run.succeeded"]},
                headers=self.admin,
            )
            assert endpoint.status_code == 201, endpoint.text
        self.seeds = itertools.count(1000)
        self.runs: list[str] = []
        self.reports: dict[str, Any] = {"build_seconds": stack.seconds}

    def reads(self) -> Load:
        h = self.reader
        return Load(
            self.stack.url,
            {
                "me": lambda c: c.get("/api/v2/me", headers=h),
                "curves": lambda c: c.get("/api/v2/curves", params={"limit": 20}, headers=h),
                "curve": lambda c: c.get(f"/api/v2/curves/{self.curve_key}", headers=h),
                "scenarios": lambda c: c.get("/api/v2/scenarios", headers=h),
                "live": lambda c: c.get("/health/live"),
                "ready": lambda c: c.get("/health/ready"),
                # the web's readiness probe in deploy/k8s: Redis is not needed to serve
                "ready_web": lambda c: c.get("/health/ready", params={"skip": "worker,redis"}),
            },
            threads=4,
        )

    def submissions(self) -> Load:
        return Load(self.stack.url, {"run": self._submit}, threads=1, pause=2.0)

    def _submit(self, client: httpx.Client) -> httpx.Response:
        response = client.post(
            f"/api/v2/scenarios/{self.scenario_id}/runs",
            json={"seed": next(self.seeds), "parameters": {"n_paths": 200}},
            headers=self.admin,
        )
        if response.status_code == 201:
            self.runs.append(response.json()["data"]["id"])
        return response

    def deliveries(self, run_id: str) -> int:
        return sum(1 for received in self.receiver.received if run_id.encode() in received.body)

    def run_states(self) -> dict[str, int]:
        rows = self.stack.sql("SELECT status, count(*) FROM acme.scenarios_scenariorun GROUP BY status")
        return {str(status): int(count) for status, count in rows}

    def wait_settled(self, timeout: float = 600) -> None:
        """Every run submitted succeeded and was delivered (or the timeout passed; the asserts say what)."""
        wait_for(
            lambda: (
                all(self.deliveries(run) >= 1 for run in self.runs)
                and not {"queued", "running"} & set(self.run_states())
            ),
            timeout,
            "every run submitted to be run and delivered",
        )

    def recovery(
        self, load: Load, since: float, kinds: tuple[str, ...], timeout: float = 180
    ) -> dict[str, Any]:
        """Seconds after ``since`` of each kind's first 200 (the load keeps running); None for a kind that
        had not answered 200 again ``timeout`` seconds after."""
        deadline = time.monotonic() + timeout
        firsts: dict[str, Any] = {}
        while time.monotonic() < deadline and not set(kinds) <= set(firsts):
            time.sleep(0.5)
            for answer in load.between(since, time.monotonic()):
                if answer.status == 200 and answer.kind not in firsts:
                    firsts[answer.kind] = round(answer.started + answer.seconds - since, 2)
        return {kind: firsts.get(kind) for kind in kinds}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    stack = OutageStack(workdir=tmp_path_factory.mktemp("outages"))
    reports: dict[str, Any] = {}
    try:
        stack.start()
        with Receiver() as receiver:
            platform = Platform(stack, receiver)
            reports = platform.reports
            yield platform
    finally:
        stack.stop()
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps(reports, indent=1))
        for log in stack.workdir.glob("*.log"):  # the processes' logs, kept for a failed drill
            shutil.copy(log, REPORT.parent / f"service-outages-{log.name}")


def _run_phase(platform: Platform, fault: Any, *, baseline: float = 10, after: float = 20) -> dict[str, Any]:
    """Load, ``fault()`` (which returns when the service is back), the recovery; answers by window."""
    reads, submissions = platform.reads(), platform.submissions()
    pids = {name: process.pid for name, process in platform.stack.processes.items()}
    reads.start()
    submissions.start()
    try:
        time.sleep(baseline)
        down = time.monotonic()
        fault_seconds = fault()
        back = time.monotonic()
        recovered = platform.recovery(reads, back, (*READS, "ready"))
        if None not in recovered.values():
            time.sleep(after)
    finally:
        reads.stop()
        submissions.stop()
    answers: list[Answer] = reads.answers + submissions.answers
    return {
        "down": down,
        "back": back,
        "fault_seconds": fault_seconds,
        "recovered_after_s": recovered,
        "answers": answers,
        "during": [a for a in answers if down <= a.started < back],
        "pids_unchanged": pids
        == {name: p.pid for name, p in platform.stack.processes.items() if p.poll() is None},
    }


def test_redis_down_30_s_reads_keep_answering_and_every_event_is_delivered_once_after(platform):
    stack = platform.stack

    def outage() -> dict[str, float]:
        stack.redis_stop()
        time.sleep(REDIS_DOWN_SECONDS)
        stack.redis_start()
        return {"down": REDIS_DOWN_SECONDS}

    phase = _run_phase(platform, outage)
    if None not in phase["recovered_after_s"].values():
        platform.wait_settled()
    during, answers = phase["during"], phase["answers"]
    platform.reports["redis"] = {
        "after": summary([a for a in answers if a.started >= phase["back"]]),
        "during": summary(during),
        "whole_phase": summary(answers),
        "recovered_after_s": phase["recovered_after_s"],
        "runs": len(platform.runs),
        "run_states": platform.run_states(),
    }

    assert None not in phase["recovered_after_s"].values(), phase["recovered_after_s"]
    assert during, "no request was sent while Redis was down"
    assert [a for a in answers if a.status == 0] == []  # no hang, no connection refused
    assert [a for a in answers if a.status >= 500 and a.kind != "ready"] == []
    assert {a.status for a in during if a.kind in READS} == {200}
    assert {a.status for a in during if a.kind == "run"} <= {201}
    assert {a.status for a in during if a.kind == "ready"} >= {503}
    assert phase["pids_unchanged"]
    runs_in_outage = [a for a in during if a.kind == "run"]
    assert runs_in_outage and platform.runs
    assert {run: platform.deliveries(run) for run in platform.runs} == dict.fromkeys(platform.runs, 1)
    assert set(platform.run_states()) == {"succeeded"}


def test_postgres_restarted_under_load_answers_503_problems_then_recovers_without_a_restart(platform):
    stack = platform.stack
    runs_before = len(platform.runs)
    phase = _run_phase(platform, lambda: stack.postgres_restart(POSTGRES_DOWN_SECONDS))
    if None not in phase["recovered_after_s"].values():
        platform.wait_settled()
    during, answers = phase["during"], phase["answers"]
    platform.reports["postgres"] = {
        "after": summary([a for a in answers if a.started >= phase["back"]]),
        "restart_seconds": phase["fault_seconds"],
        "during": summary(during),
        "whole_phase": summary(answers),
        "recovered_after_s": phase["recovered_after_s"],
        "runs": len(platform.runs) - runs_before,
        "run_states": platform.run_states(),
    }

    assert None not in phase["recovered_after_s"].values(), phase["recovered_after_s"]
    assert during, "no request was sent while Postgres was down"
    assert [a for a in answers if a.status == 0] == []  # no hang, no connection refused
    failed = [a for a in answers if a.status >= 500 and a.kind not in PROBES]
    assert {a.status for a in failed} <= {503}
    assert all(a.problem for a in failed)
    assert any(a.status == 503 for a in during)  # the outage was seen
    assert {a.status for a in during if a.kind == "live"} == {200}
    assert phase["pids_unchanged"]
    assert len(platform.runs) > runs_before
    assert {run: platform.deliveries(run) for run in platform.runs} == dict.fromkeys(platform.runs, 1)
    assert set(platform.run_states()) == {"succeeded"}
