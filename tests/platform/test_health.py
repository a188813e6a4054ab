"""/health/live and /health/ready against the real services; a stopped Redis makes the platform not ready."""

import subprocess
import time

import pytest
import redis

from aurum.devstack.services import free_port, port_open, redis_server_binary


def test_live_is_200_without_touching_dependencies(api):
    response = api.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.live
def test_ready_reports_every_dependency_with_latency(world, api, celery_worker):
    response = api.get("/health/ready")

    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"postgres", "redis", "warehouse", "worker"}
    for name, check in body["checks"].items():
        assert check["ok"] is True, name
        assert isinstance(check["latency_ms"], float)
        assert check["latency_ms"] >= 0
    assert "1 worker(s) alive" in body["checks"]["worker"]["detail"]


def test_ready_is_503_when_redis_stops(world, api, settings, tmp_path):
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
        while not port_open(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
        redis.Redis(port=port).set("aurum:worker-heartbeat:fake", "1")
        up = api.get("/health/ready")
        assert up.status_code == 200, up.json()
        assert up.json()["checks"]["redis"]["ok"] is True

        process.terminate()
        process.wait(timeout=10)
        down = api.get("/health/ready")
    finally:
        if process.poll() is None:
            process.kill()

    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert down.json()["checks"]["redis"]["ok"] is False
    assert "Connection" in down.json()["checks"]["redis"]["detail"]
    assert down.json()["checks"]["postgres"]["ok"] is True


def test_ready_is_503_when_the_warehouse_is_not_writable(world, api, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.AURUM_WAREHOUSE = (blocker / "warehouse").as_uri()  # nobody, root included, can create this

    response = api.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["warehouse"]["ok"] is False


def test_metrics_are_exposed_for_prometheus(api):
    api.get("/health/live")

    response = api.get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content
