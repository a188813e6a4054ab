"""/health/live, /health/ready and /metrics against the real services.

Readiness: a stopped or hung Redis makes the platform not ready, within a bound, saying only which check
failed; answers are reused for a few seconds. With reads on Trino the coordinator (a stand-in speaking Trino's
protocol) is checked too: up, stopped, answering 503, still starting, hung. Metrics: only on the platform host
or to allow-listed clients.
"""

import logging
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from aurum.devstack.services import free_port, port_open, redis_server_binary
from aurum.health.checks import FAILED_ANSWER_SECONDS, HEARTBEATS_KEY, READINESS
from tests.support.trino_server import Answer, TrinoStandIn, trino_reads


def _without_latency(body: dict) -> dict:
    return {**body, "checks": {n: {"ok": c["ok"], "detail": c["detail"]} for n, c in body["checks"].items()}}


@contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port nobody accepts on: connections succeed (the kernel's backlog), replies never come."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        yield silent.getsockname()[1]


@pytest.fixture
def empty_redis(tmp_path, settings) -> Iterator[subprocess.Popen[bytes]]:
    """A Redis of the test's own (it may stop it), no worker ever beat in it, as settings.REDIS_URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not port_open(port):
            assert time.monotonic() < deadline, "the private Redis did not start"
            time.sleep(0.05)
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def private_redis(empty_redis, settings) -> subprocess.Popen[bytes]:
    """``empty_redis`` holding one live worker heartbeat."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    seconds, _ = client.time()
    client.zadd(HEARTBEATS_KEY, {"test-worker": seconds})
    return empty_redis


def test_live_is_200_without_touching_dependencies(api):
    response = api.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.live
def test_ready_reports_every_dependency_with_latency(world, api, celery_worker):
    response = api.get("/health/ready")

    body = response.json()
    assert response.status_code == 200, body
    assert _without_latency(body) == {
        "status": "ok",
        "checks": {
            "postgres": {"ok": True, "detail": "ok"},
            "redis": {"ok": True, "detail": "ok"},
            "warehouse": {"ok": True, "detail": "writable"},
            "worker": {"ok": True, "detail": "1 worker(s) alive"},
        },
    }
    for check in body["checks"].values():
        assert isinstance(check["latency_ms"], float)
        assert check["latency_ms"] >= 0


def test_ready_is_503_when_redis_stops_and_tells_no_exception_text(world, api, private_redis):
    up = api.get("/health/ready")
    assert up.status_code == 200, up.json()

    private_redis.terminate()
    private_redis.wait(timeout=10)
    started = time.monotonic()
    down = api.get("/health/ready")
    elapsed = time.monotonic() - started

    assert down.status_code == 503
    assert _without_latency(down.json()) == {
        "status": "unavailable",
        "checks": {
            "postgres": {"ok": True, "detail": "ok"},
            "redis": {"ok": False, "detail": "unreachable"},
            "warehouse": {"ok": True, "detail": "writable"},
            "worker": {"ok": False, "detail": "unreachable"},
        },
    }
    text = down.content.decode()
    for leak in ("Error", "refused", "Connection", "127.0.0.1", "Traceback"):
        assert leak not in text
    assert elapsed < 2.5  # the default check timeout is 2 s; a refused connection answers at once


def test_ready_is_bounded_when_redis_accepts_but_never_answers(world, api, settings):
    with silent_port() as port:
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
        settings.AURUM_HEALTH_TIMEOUT_SECONDS = 0.5

        started = time.monotonic()
        response = api.get("/health/ready")
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    checks = _without_latency(response.json())["checks"]
    assert checks["redis"] == {"ok": False, "detail": "unreachable"}
    assert checks["worker"] == {"ok": False, "detail": "unreachable"}
    assert checks["postgres"] == {"ok": True, "detail": "ok"}
    assert "Timeout" not in response.content.decode()
    assert elapsed < 1.5  # 0.5 s per check, the checks side by side, one attempt each


def test_ready_is_503_when_the_warehouse_is_not_writable(world, api, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.AURUM_WAREHOUSE = (blocker / "warehouse").as_uri()  # nobody, root included, can create this

    response = api.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["warehouse"] == {
        "ok": False,
        "latency_ms": response.json()["checks"]["warehouse"]["latency_ms"],
        "detail": "not writable",
    }
    assert str(tmp_path) not in response.content.decode()


def _check_runs(api) -> dict[str, float]:
    text = api.get("/metrics").content.decode()
    family = next(f for f in text_string_to_metric_families(text) if f.name == "aurum_readiness_check_runs")
    return {s.labels["check"]: s.value for s in family.samples if s.name.endswith("_total")}


def test_ready_answers_are_reused_for_a_few_seconds(world, api, settings, private_redis):
    settings.AURUM_HEALTH_CACHE_SECONDS = 60
    READINESS.clear()
    before = _check_runs(api)

    first = api.get("/health/ready")
    private_redis.terminate()  # a stopped Redis goes unseen while the answer is fresh
    private_redis.wait(timeout=10)
    second = api.get("/health/ready")

    after = _check_runs(api)
    assert {name: after[name] - before.get(name, 0) for name in after} == {
        "postgres": 1,
        "redis": 1,
        "warehouse": 1,
        "worker": 1,
    }
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    READINESS.clear()
    assert api.get("/health/ready").status_code == 503


def test_a_failed_answer_is_reused_for_a_second_at_most(world, api, settings, empty_redis):
    """A worker that starts beating puts the server back in service within a second, not a cache period."""
    settings.AURUM_HEALTH_CACHE_SECONDS = 60
    READINESS.clear()
    try:
        before = _check_runs(api)
        no_worker = api.get("/health/ready")
        client = redis.Redis.from_url(settings.REDIS_URL)
        seconds, _ = client.time()
        client.zadd(HEARTBEATS_KEY, {"test-worker": seconds})
        still_cached = api.get("/health/ready")
        runs_while_cached = _check_runs(api)["worker"] - before.get("worker", 0)
        time.sleep(FAILED_ANSWER_SECONDS + 0.1)
        beating = api.get("/health/ready")
        beating_again = api.get("/health/ready")
        runs = _check_runs(api)["worker"] - before.get("worker", 0)
    finally:
        READINESS.clear()

    assert (no_worker.status_code, still_cached.status_code) == (503, 503)
    assert runs_while_cached == 1
    assert (beating.status_code, beating_again.status_code) == (200, 200)
    assert runs == 2  # a passing answer is reused for the whole period


def test_metrics_are_served_on_the_platform_host(api):
    api.get("/health/live")

    response = api.get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


def test_metrics_are_not_found_on_a_tenant_host(world, api):
    response = api.get("/metrics", HTTP_HOST=world.acme.host, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 404
    assert b"django_http" not in response.content


def test_metrics_are_served_to_allow_listed_clients_on_any_host(world, api, settings):
    settings.AURUM_METRICS_ALLOW = ["10.20.0.0/16", "2001:db8::/32"]

    inside = api.get("/metrics", HTTP_HOST=world.acme.host, REMOTE_ADDR="10.20.3.4")
    inside_v6 = api.get("/metrics", HTTP_HOST=world.acme.host, REMOTE_ADDR="2001:db8::7")
    outside = api.get("/metrics", HTTP_HOST=world.acme.host, REMOTE_ADDR="10.21.0.1")

    assert inside.status_code == inside_v6.status_code == 200
    assert b"django_http_requests_total_by_method_total" in inside.content
    assert outside.status_code == 404


def test_ready_without_the_worker_check_is_200_when_no_worker_beats(world, api, empty_redis):
    """A web server's readiness probe (deploy/k8s: ?skip=worker) keeps it in service with workers down."""
    READINESS.clear()
    try:
        everything = api.get("/health/ready")
        without_worker = api.get("/health/ready?skip=worker")
        unknown = api.get("/health/ready?skip=worker,dns")
    finally:
        READINESS.clear()

    assert everything.status_code == 503
    assert everything.json()["checks"]["worker"]["ok"] is False
    assert without_worker.status_code == 200
    assert set(without_worker.json()["checks"]) == {"postgres", "redis", "warehouse"}
    assert unknown.status_code == 400
    assert "dns" in unknown.json()["detail"]


def test_a_probe_answering_503_is_no_error_in_the_request_log_but_any_other_503_is(
    world, api, settings, tmp_path, caplog
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.AURUM_WAREHOUSE = (blocker / "warehouse").as_uri()

    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert api.get("/health/ready").status_code == 503

    assert [r for r in caplog.records if r.name == "django.request"] == []
    request_log = logging.getLogger("django.request")
    other = request_log.makeRecord(
        "django.request",
        logging.ERROR,
        __file__,
        1,
        "Service Unavailable: %s",
        ("/api/v2/me",),
        None,
        extra={"status_code": 503, "request": SimpleNamespace(path="/api/v2/me")},
    )
    assert request_log.filter(other)  # every filter of the logger lets it through


@pytest.fixture
def trino(settings) -> Iterator[TrinoStandIn]:
    """Reads go to Trino (decision 0045): its coordinator is the stand-in speaking Trino's protocol."""
    with trino_reads(settings) as coordinator:
        yield coordinator


def test_ready_checks_the_trino_coordinator_when_reads_go_to_trino(world, api, private_redis, trino):
    response = api.get("/health/ready")

    assert response.status_code == 200, response.json()
    assert _without_latency(response.json())["checks"] == {
        "postgres": {"ok": True, "detail": "ok"},
        "redis": {"ok": True, "detail": "ok"},
        "warehouse": {"ok": True, "detail": "writable"},
        "worker": {"ok": True, "detail": "1 worker(s) alive"},
        "trino": {"ok": True, "detail": "ok"},
    }
    # One request for the coordinator's info; no statement, so no query for Trino to plan.
    assert trino.requests == [("GET", "/v1/info")]
    assert trino.statements == []


def test_ready_has_no_trino_check_when_reads_stay_on_duckdb(world, api, private_redis, settings):
    settings.AURUM_QUERY_ENGINE = "duckdb"
    settings.AURUM_TRINO_URL = "http://aurum@127.0.0.1:9"  # nothing listens: it would fail if it were asked

    response = api.get("/health/ready")
    skipped = api.get("/health/ready?skip=trino")  # one probe definition for every deployment

    assert response.status_code == 200, response.json()
    assert set(response.json()["checks"]) == {"postgres", "redis", "warehouse", "worker"}
    assert skipped.status_code == 200


@pytest.mark.parametrize(
    ("trouble", "detail"),
    [("stopped", "unreachable"), ("answers 503", "unreachable"), ("starting", "starting")],
)
def test_ready_is_503_when_the_trino_coordinator_does_not_answer(
    world, api, private_redis, settings, trouble, detail
):
    with trino_reads(settings) as coordinator:
        up = api.get("/health/ready")
        if trouble == "answers 503":
            coordinator.answer = Answer(http_status=503)
        coordinator.starting = trouble == "starting"
        if trouble != "stopped":
            down = api.get("/health/ready")
    if trouble == "stopped":  # the stand-in has shut down: its port refuses connections
        down = api.get("/health/ready")
    without_trino = api.get("/health/ready?skip=trino")

    assert up.status_code == 200, up.json()
    assert down.status_code == 503
    assert _without_latency(down.json()) == {
        "status": "unavailable",
        "checks": {
            "postgres": {"ok": True, "detail": "ok"},
            "redis": {"ok": True, "detail": "ok"},
            "warehouse": {"ok": True, "detail": "writable"},
            "worker": {"ok": True, "detail": "1 worker(s) alive"},
            "trino": {"ok": False, "detail": detail},
        },
    }
    for leak in ("Error", "refused", "Connection", "127.0.0.1", str(coordinator.port), "Traceback"):
        assert leak not in down.content.decode()
    assert without_trino.status_code == 200


def test_ready_is_503_when_the_trino_coordinator_accepts_but_never_answers(
    world, api, private_redis, settings
):
    with silent_port() as port:
        settings.AURUM_QUERY_ENGINE = "trino"
        settings.AURUM_TRINO_URL = f"http://aurum@127.0.0.1:{port}"
        settings.AURUM_HEALTH_TIMEOUT_SECONDS = 0.5

        response = api.get("/health/ready")

    assert response.status_code == 503
    assert _without_latency(response.json())["checks"]["trino"] == {"ok": False, "detail": "unreachable"}
    assert "Timeout" not in response.content.decode()


def test_the_trino_check_is_reused_for_a_few_seconds(world, api, private_redis, settings, trino):
    settings.AURUM_HEALTH_CACHE_SECONDS = 60
    READINESS.clear()
    try:
        first = api.get("/health/ready")
        trino.starting = True  # goes unseen while the answer is fresh
        second = api.get("/health/ready")
        asked_while_fresh = list(trino.requests)
        READINESS.clear()
        third = api.get("/health/ready")
    finally:
        READINESS.clear()

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert asked_while_fresh == [("GET", "/v1/info")]  # two probes, one request to the coordinator
    assert third.status_code == 503
    assert third.json()["checks"]["trino"]["detail"] == "starting"
