"""The embedded stack starts wherever the checkout sits: also in a directory only its owner may enter (a clone
in /root, mode 0700), where Postgres, run as an unprivileged user when we are root, could not reach a cluster
kept inside the checkout."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = (
    "import os, psycopg, redis; "
    "row = psycopg.connect(os.environ['DATABASE_URL']).execute('SELECT current_database()').fetchone(); "
    "print(row[0], redis.Redis.from_url(os.environ['REDIS_URL']).ping())"
)


def test_the_stack_starts_for_a_checkout_in_an_owner_only_directory(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o700)
    var = home / "aurum" / "var"
    var.mkdir(parents=True)  # a checkout has var/ once it has run
    # Where a root-run cluster goes instead of /var/tmp, so the test leaves nothing behind there.
    services = Path(tempfile.mkdtemp(prefix="aurum-test-", dir="/var/tmp"))
    services.chmod(0o755)
    dropped = ("DATABASE_URL", "REDIS_URL", "AURUM_WAREHOUSE", "AURUM_VAR_DIR", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(AURUM_VAR_DIR=str(var), AURUM_SERVICE_DIR=str(services))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "aurum.devstack", "run", "--", sys.executable, "-c", PROBE],
            cwd=REPO,
            env=env,
            text=True,
            capture_output=True,
            timeout=120,
        )
        leftovers = sorted(p.name for p in services.glob("*/*"))
    finally:
        shutil.rmtree(services, ignore_errors=True)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "aurum True"
    started = next(line for line in result.stdout.splitlines() if "starting Postgres" in line)
    if os.geteuid() == 0:
        assert str(services) in started  # outside the checkout, where the service user can reach it
    else:
        assert str(var) in started
    assert leftovers == []  # the throwaway cluster is removed with the run
    assert [p.name for p in var.iterdir()] == []
