"""The mixed load of bench/soak.py, for locust (headless, started by soak.py with its stack's details in the
environment). Run on its own only against a stack soak.py started; it sends traffic to 127.0.0.1 only.

Users (fixed counts, so the mix is the same in every run; weights inside each user):
- CurveReader ×SOAK_READERS (6): v2 curve detail latest and as-of, v1 ``/curves?curve_key=``, a v2 page of one
  ISO, one tenor's history, a diff of two vintages, over many curves and dates. Served by gunicorn.
- AsgiReader ×1: the same reads through uvicorn, named "asgi: …" (the demo serves HTTP through it;
  production keeps it for /ws/).
- Exporter ×1: one day's export of an ISO, Parquet or CSV.
- ScenarioRunner ×2: create a scenario (1-3 curves, policy + load growth + a lognormal driver), run it, poll
  it to a final state; "scenario flow" is the whole of it.
- Uploader ×1: the next EOD workbook (fixture days not loaded before the run, in date order), uploaded by the
  operator and polled to its end; "upload flow" is the whole of it.

A request counts as failed when its status is not the expected one; a run or ingest that ends in anything but
success is a failed flow.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from locust import HttpUser, between, events, task

CONFIG: dict[str, Any] = json.loads(os.environ.get("SOAK_CONFIG", "{}"))
POLL_SECONDS = 0.5
FLOW_TIMEOUT = 300.0
_workbooks: Iterator[str] = iter(CONFIG.get("workbooks", []))


def _auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {CONFIG['tokens'][role]}"}


def _data(response: Any) -> dict[str, Any]:
    body = response.json()
    return dict(body.get("data", body)) if isinstance(body, dict) else {}


def _failure(response: Any) -> str:
    """A failed answer's status and body, or for no answer (status 0) the connection error."""
    if response.status_code == 0:
        return f"0: {response.error!r}"
    return f"{response.status_code}: {response.text[:300]}"


def _flow(name: str, started: float, exception: Exception | None) -> None:
    """Record a whole flow (create → final state) as one entry of locust's statistics."""
    events.request.fire(
        request_type="FLOW",
        name=name,
        response_time=(time.monotonic() - started) * 1000,
        response_length=0,
        exception=exception,
        context={},
    )


class SoakUser(HttpUser):
    """Each request's context names its user, for the connection-reset report below."""

    abstract = True

    def context(self) -> dict[str, Any]:
        return {"user": id(self)}


_last_answer: dict[int, float] = {}  # user → when its previous request ended (monotonic)


@events.request.add_listener
def _connection_resets(
    request_type: str, name: str, response_time: float, exception: Exception | None, context: Any, **_: Any
) -> None:
    """A request lost at the connection level (status 0) is logged with how long its user's connection had
    been idle before it: a reset at the server's keep-alive timeout is one the server closed under the
    request (deploy/gunicorn.conf.py, decision 0052)."""
    user = (context or {}).get("user")
    if user is None:
        return
    now = time.monotonic()
    sent = now - response_time / 1000
    if exception is not None and any(
        kind in repr(exception) for kind in ("ConnectionReset", "RemoteDisconnected", "BrokenPipe")
    ):
        idle = sent - _last_answer[user] if user in _last_answer else float("nan")
        print(f"connection lost: {request_type} {name} after {idle:.2f} s idle: {exception!r}", flush=True)
    _last_answer[user] = now


# bench/soak_prewarm.lua (SOAK_PREWARM) and bench/read_memory.py send these reads with the same weights:
# change the three together.
class CurveReads(SoakUser):
    """The read tasks, for a user whose ``base`` is the server to read from."""

    abstract = True
    base = ""
    label = ""  # before each request's name: the ASGI reader's are counted apart

    def _get(self, path: str, name: str, **params: Any) -> None:
        with self.client.get(
            self.base + path,
            params=params,
            headers=_auth("reader"),
            name=self.label + name,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(_failure(response))

    @staticmethod
    def _key() -> str:
        return random.choice(CONFIG["curve_keys"])

    @task(5)
    def curve_latest(self) -> None:
        self._get(f"/api/v2/curves/{quote(self._key(), safe='')}", "v2 curve latest")

    @task(3)
    def curve_asof(self) -> None:
        key = quote(self._key(), safe="")
        self._get(f"/api/v2/curves/{key}", "v2 curve asof", asof=random.choice(CONFIG["asofs"]))

    @task(3)
    def v1_curve(self) -> None:
        self._get("/api/v1/curves", "v1 curves by key", curve_key=self._key(), limit=200)

    @task(2)
    def v2_page(self) -> None:
        self._get("/api/v2/curves", "v2 curves page", iso=random.choice(CONFIG["isos"]), limit=200)

    @task(1)
    def history(self) -> None:
        key = quote(self._key(), safe="")
        self._get(f"/api/v2/curves/{key}/history", "v2 curve history", tenor_label=CONFIG["tenor_label"])

    @task(1)
    def diff(self) -> None:
        first, second = sorted(random.sample(CONFIG["asofs"], 2))
        self._get("/api/v2/curves/diff", "v2 curve diff", curve_key=self._key(), asof_a=first, asof_b=second)


class CurveReader(CurveReads):
    fixed_count = int(os.environ.get("SOAK_READERS", "6"))
    wait_time = between(0.5, 2.0)


class AsgiReader(CurveReads):
    fixed_count = 1
    wait_time = between(1.0, 3.0)
    base = CONFIG.get("asgi_url", "")
    label = "asgi: "


class Exporter(SoakUser):
    fixed_count = 1
    wait_time = between(4.0, 10.0)

    @task
    def export(self) -> None:
        fmt = random.choice(("parquet", "csv"))
        params = {"format": fmt, "asof": random.choice(CONFIG["asofs"]), "iso": random.choice(CONFIG["isos"])}
        with self.client.get(
            "/api/v2/curves/export",
            params=params,
            headers=_auth("reader"),
            name=f"export {fmt}",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or not response.content:
                response.failure(_failure(response))


class ScenarioRunner(SoakUser):
    fixed_count = 2
    wait_time = between(5.0, 15.0)

    @task
    def scenario_flow(self) -> None:
        started = time.monotonic()
        try:
            self._create_run_poll()
        except Exception as exc:  # noqa: BLE001 - any failure of the flow is recorded as locust's failure
            _flow("scenario flow", started, exc)
        else:
            _flow("scenario flow", started, None)

    def _create_run_poll(self) -> None:
        body = {
            "name": f"soak {uuid.uuid4().hex[:12]}",
            "curve_keys": random.sample(CONFIG["curve_keys"], random.randint(1, 3)),
            "assumptions": [
                {"driver_type": "policy", "payload": {"policy_name": "carbon_tax", "start_year": 2027}},
                {"driver_type": "load_growth", "payload": {"annual_growth_pct": 1.5, "start_year": 2026}},
                {
                    "driver_type": "stochastic",
                    "payload": {
                        "distribution_type": "lognormal",
                        "parameters": {"sigma": 0.2},
                        "base_driver": {},
                    },
                },
            ],
        }
        created = self.client.post(
            "/api/v2/scenarios", json=body, headers=_auth("trader"), name="scenario create"
        )
        if created.status_code != 201:
            raise RuntimeError(f"create {created.status_code}: {created.text[:300]}")
        scenario = _data(created)["id"]
        options = {"seed": random.randint(0, 10**6), "parameters": {"n_paths": 500}}
        run = self.client.post(
            f"/api/v2/scenarios/{scenario}/runs", json=options, headers=_auth("trader"), name="scenario run"
        )
        if run.status_code != 201:
            raise RuntimeError(f"run {run.status_code}: {run.text[:300]}")
        state = _poll(self.client, f"/api/v2/scenario-runs/{_data(run)['id']}", "scenario run poll", "trader")
        if state["status"] != "succeeded":
            raise RuntimeError(f"run ended {state['status']}: {state.get('error_code')} {state.get('error')}")


class Uploader(SoakUser):
    fixed_count = 1
    wait_time = between(8.0, 16.0)

    @task
    def upload_flow(self) -> None:
        path = next(_workbooks, None)
        if path is None:
            return  # every workbook of the run is in; the other users go on
        started = time.monotonic()
        try:
            self._upload_poll(Path(path))
        except Exception as exc:  # noqa: BLE001 - any failure of the flow is recorded as locust's failure
            _flow("upload flow", started, exc)
        else:
            _flow("upload flow", started, None)

    def _upload_poll(self, path: Path) -> None:
        with path.open("rb") as handle:
            answer = self.client.post(
                "/api/v2/ingest/runs",
                files={"file": (path.name, handle, "application/octet-stream")},
                headers=_auth("operator"),
                name="upload",
            )
        if answer.status_code != 202:
            raise RuntimeError(f"upload {answer.status_code}: {answer.text[:300]}")
        state = _poll(self.client, answer.headers["Location"], "upload poll", "operator")
        if state["status"] not in ("succeeded", "succeeded_with_quarantine"):
            raise RuntimeError(f"ingest of {path.name} ended {state['status']}: {state.get('error_message')}")


def _poll(client: Any, path: str, name: str, role: str) -> dict[str, Any]:
    deadline = time.monotonic() + FLOW_TIMEOUT
    while time.monotonic() < deadline:
        answer = client.get(path, headers=_auth(role), name=name)
        if answer.status_code != 200:
            raise RuntimeError(f"poll {answer.status_code}: {answer.text[:300]}")
        state = _data(answer)
        if state["status"] not in ("queued", "running", "pending", "dispatched"):
            return state
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{path} not finished after {FLOW_TIMEOUT:.0f} s")
