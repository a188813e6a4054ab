"""deploy/: the production process model as files (compose for one host, Kubernetes manifests). No cluster or
Docker runs here, so these tests check what can go wrong in the files themselves: every queue has its
workers with its own profile, exactly one beat, probes on paths Aurum serves, commands that exist, and every
setting the files name is one Aurum reads."""

from __future__ import annotations

import os
import re
import runpy
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from aurum.devstack.__main__ import uvicorn_command
from aurum.queues import QUEUES
from aurum.worker import worker_argv

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SETTINGS_DIR = DEPLOY.parent / "aurum" / "settings"


def k8s_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        objects += [doc for doc in yaml.safe_load_all(path.read_text()) if doc and "kind" in doc]
    return objects


def deployments() -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in k8s_objects() if o["kind"] == "Deployment"}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def settings_read() -> set[str]:
    """Every environment variable Aurum's settings read (``env.<type>("NAME"``)."""
    text = "\n".join(path.read_text() for path in SETTINGS_DIR.glob("*.py"))
    text += (DEPLOY / "gunicorn.conf.py").read_text() + (DEPLOY.parent / "aurum" / "worker.py").read_text()
    return set(re.findall(r"""env\.\w+\(\s*"([A-Z0-9_]+)""", text)) | set(
        re.findall(r"""environ\.get\(\s*"([A-Z0-9_]+)""", text)
    )


def test_every_queue_has_its_worker_deployment_running_its_profile() -> None:
    found = deployments()

    for queue in QUEUES:
        command = container(found[f"aurum-worker-{queue}"])["command"]
        assert command == ["python", "-m", "aurum.worker", queue]
        assert worker_argv(queue)[:3] == ["worker", "-Q", queue]
        assert "--without-mingle" in worker_argv(queue)  # decision 0068
    assert {name for name in found if name.startswith("aurum-worker-")} == {
        f"aurum-worker-{q}" for q in QUEUES
    }


def test_compose_runs_the_same_process_model() -> None:
    services = compose()["services"]

    for queue in QUEUES:
        assert services[f"worker-{queue}"]["command"] == ["python", "-m", "aurum.worker", queue]
    assert services["web"]["command"][:3] == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
    assert services["asgi"]["command"][:2] == ["uvicorn", "aurum.asgi:application"]
    assert services["migrate"]["command"] == ["python", "manage.py", "platform_migrate"]
    assert [name for name, service in services.items() if "beat" in " ".join(service.get("command", []))] == [
        "beat"
    ]


def test_exactly_one_beat_that_is_never_doubled_by_a_rollout() -> None:
    beats = [d for d in deployments().values() if "beat" in container(d)["command"]]

    assert len(beats) == 1
    assert beats[0]["spec"]["replicas"] == 1
    assert beats[0]["spec"]["strategy"] == {"type": "Recreate"}


# web serves without Redis (decision 0043); the websockets' live events need it. Neither needs Trino to serve
# (without it lakehouse reads are 503 problems; decision 0053).
@pytest.mark.parametrize(
    ("name", "ready_path"),
    [
        ("aurum-web", "/health/ready?skip=worker,redis,trino"),
        ("aurum-asgi", "/health/ready?skip=worker,trino"),
    ],
)
def test_servers_are_probed_on_paths_aurum_serves_and_stay_ready_without_workers(
    name: str, ready_path: str, api: Any
) -> None:
    spec = container(deployments()[name])
    live, ready = spec["livenessProbe"]["httpGet"], spec["readinessProbe"]["httpGet"]

    assert live["path"] == "/health/live"
    assert ready["path"] == ready_path
    assert live["port"] == ready["port"] == spec["ports"][0]["containerPort"]
    assert spec["resources"]["requests"]["memory"] == spec["resources"]["limits"]["memory"]


def test_every_process_has_resources_and_takes_settings_from_the_environment() -> None:
    for name, deployment in deployments().items():
        spec = container(deployment)
        assert {"cpu", "memory"} <= set(spec["resources"]["requests"]), name
        assert {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in spec["envFrom"]} == {
            "aurum-config",
            "aurum-secrets",
        }, name


def test_every_setting_the_files_name_is_one_aurum_reads() -> None:
    read = settings_read()
    config = next(o for o in k8s_objects() if o["kind"] == "ConfigMap")["data"]
    example = [
        line.split("=", 1)[0]
        for line in (DEPLOY / "aurum.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    inline = [item["name"] for d in deployments().values() for item in container(d).get("env", [])] + [
        name for service in compose()["services"].values() for name in service.get("environment", {})
    ]
    named = set(config) | set(example) | {n for n in inline if not n.startswith("POSTGRES_")}

    assert len(read) > 30
    assert sorted(named - read) == []
    # What production refuses to start without is in the example.
    assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"} <= set(example)


def test_the_ingress_sends_websockets_to_the_asgi_server() -> None:
    ingress = next(o for o in k8s_objects() if o["kind"] == "Ingress")
    paths = ingress["spec"]["rules"][0]["http"]["paths"]

    assert [(p["path"], p["backend"]["service"]["name"]) for p in paths] == [
        ("/ws/", "aurum-asgi"),
        ("/", "aurum-web"),
    ]
    assert "reverse_proxy @websockets asgi:8001" in (DEPLOY / "Caddyfile").read_text()


def test_the_image_runs_as_a_user_and_collects_static_files() -> None:
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    run = [shlex.split(line)[1:] for line in lines if line.startswith("RUN ")]

    assert any("collectstatic" in args for args in run)
    assert "USER aurum" in lines
    assert lines[-1].startswith("CMD ")


# ingress-nginx closes its idle upstream connections after `upstream-keepalive-timeout` (its ConfigMap; 60 s
# by default, which deploy/k8s does not change).
INGRESS_NGINX_UPSTREAM_IDLE = 60


def gunicorn_keepalive(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> int:
    """The keepalive deploy/gunicorn.conf.py gives gunicorn, without AURUM_WEB_KEEPALIVE (the file sets
    defaults in the environment: they go to a copy)."""
    environ = {k: v for k, v in os.environ.items() if k != "AURUM_WEB_KEEPALIVE"}
    monkeypatch.setattr(os, "environ", {**environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    return int(runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["keepalive"])


def test_servers_keep_idle_connections_longer_than_the_proxies_in_front_of_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The side that closes an idle kept-alive connection must be the client (the proxy, a load generator):
    a server closing it can drop a request sent at that moment with a TCP reset (decision 0052)."""
    keepalive = gunicorn_keepalive(monkeypatch, tmp_path)
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    caddy_idle = [int(s) for s in re.findall(r"^\s*keepalive (\d+)s$", caddyfile, re.MULTILINE)]
    uvicorn_commands = [
        compose()["services"]["asgi"]["command"],
        container(deployments()["aurum-asgi"])["command"],
        uvicorn_command(8000),
    ]

    assert keepalive == 75
    assert caddy_idle == [60, 60]  # both upstreams (asgi, web)
    assert caddyfile.count("reverse_proxy ") == len(caddy_idle)
    assert max(caddy_idle) < keepalive and INGRESS_NGINX_UPSTREAM_IDLE < keepalive
    for command in uvicorn_commands:
        assert command[command.index("--timeout-keep-alive") + 1] == str(keepalive)


def test_gunicorn_keepalive_is_set_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AURUM_WEB_KEEPALIVE", "90")
    environ = dict(os.environ)
    monkeypatch.setattr(os, "environ", {**environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})

    assert runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["keepalive"] == 90
