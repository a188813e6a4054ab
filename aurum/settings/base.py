"""Settings shared by every environment. Everything that differs between machines comes from the environment.

The one env reader is ``env`` below; ``production.py`` adds nothing but stricter defaults. Entry points
(wsgi, asgi, celery, gunicorn) default to ``aurum.settings.production``; the demo and the tests name theirs.
"""

from pathlib import Path

import environ

from aurum.queues import DEFAULT_QUEUE, SCENARIOS, TASK_ROUTES, WEBHOOKS

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(environ.Env().str("AURUM_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

# Known to everyone: local and test settings only. Production refuses it (aurum.settings.production).
INSECURE_DEV_SECRET_KEY = "aurum-insecure-dev-key-change-me-in-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[".localhost", "localhost", "127.0.0.1"])
# Hosts that serve the platform (public schema): the Django admin, health and metrics.
# Tenants live on subdomains of AURUM_BASE_DOMAIN.
AURUM_PUBLIC_HOSTS = env.list("AURUM_PUBLIC_HOSTS", default=["localhost", "127.0.0.1"])
AURUM_BASE_DOMAIN = env.str("AURUM_BASE_DOMAIN", default="localhost")
# Networks (CIDRs) of the reverse proxies in front of Aurum: X-Forwarded-For is believed only for hops from
# them (aurum/observability/client_address.py). Empty: the header is ignored, the client is REMOTE_ADDR.
AURUM_TRUSTED_PROXIES = env.list("AURUM_TRUSTED_PROXIES", default=[])

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI served from our own static files, never a CDN: Aurum works air-gapped.
    "drf_spectacular_sidecar",
    "auditlog",
    "django_prometheus",
    "channels",
    "django_htmx",
    "csp",
    "aurum.events",
    "apps.accounts",
    "apps.reference",
    "apps.portal",
    "apps.curves",
    "apps.ingestion",
    "apps.usage",
    "apps.feeds",
    "apps.maintenance",
    "apps.exports",
    "apps.offboarding",
    "apps.datasets",
]
# Tenant-owned apps only: a query on their tables outside a tenant schema fails instead of leaking.
TENANT_APPS: list[str] = [
    "django.contrib.contenttypes",
    # django-auditlog's row history lives in each tenant's schema too (its entries carry their tenant by
    # where they are; the public table keeps only the platform admin's changes): docs/decisions/0028.
    "auditlog",
    "apps.audit",
    "apps.scenarios",
    "apps.ppa",
    "apps.watchlists",
    "apps.webhooks",
    # Stored answers of requests with an Idempotency-Key (decision 0027): tenant data, so in its schema.
    "aurum.idempotency",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New tenants are cloned from this migrated template schema instead of replaying every migration.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Schemas cloned ahead of need; provisioning renames one (tenants/spares.py, decision 0049). 0: always clone.
AURUM_TENANT_SPARE_SCHEMAS = env.int("AURUM_TENANT_SPARE_SCHEMAS", default=2)
GET_EXECUTOR_FUNCTION = "tenants.migration_executor.executor_for"  # skips schemas already migrated
# SET search_path only when the schema changes (django-tenants re-issues it after set_tenant, a rollback or a
# savepoint rollback), not before every query: half the Postgres round trips of an API request.
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "aurum.urls_public"
ROOT_URLCONF = "aurum.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "aurum.observability.middleware.RequestContextMiddleware",
    "aurum.api.request_limits.QueryStringLimitMiddleware",
    "aurum.api.caching.PrivateCacheMiddleware",
    "aurum.api.throttling.RateLimitHeadersMiddleware",
    "aurum.api.deprecation.V1DeprecationMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin CSS, the API docs UI) straight from the app server, before tenant resolution.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "aurum.tenancy.middleware.TenantResolutionMiddleware",
    # Who acts (token or user), request id and client address: the audit ledger's and auditlog's context.
    "apps.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The portal: `request.htmx` for partial page updates, and a policy that no request leaves the host.
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.portal.navigation.portal_navigation",
            ],
        },
    }
]

WSGI_APPLICATION = "aurum.wsgi.application"
ASGI_APPLICATION = "aurum.asgi.application"

DATABASE_URL = env.str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/aurum")
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
# django-tenants' backend that SETs search_path only when the session does not have it (decision 0057).
DATABASES["default"]["ENGINE"] = "aurum.tenancy.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("AURUM_DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# ... but not for a connection that answered a statement less than this ago (decision 0057; 0: always check).
AURUM_DB_HEALTH_CHECK_IDLE_SECONDS = env.float("AURUM_DB_HEALTH_CHECK_IDLE_SECONDS", default=1.0)
# Every API request's fixed lookups are prepared on the server once run this often on a connection (decision
# 0058; "off" for a pooler that cannot keep them). Django's own queries bind on the client: never prepared.
_options, _prep = DATABASES["default"].setdefault("OPTIONS", {}), env.str("AURUM_DB_PREPARE_THRESHOLD", "5")
_options["prepare_threshold"] = int(_prep) if _prep != "off" else None
# libpq waits forever for an unreachable server by default; fail fast instead (seconds).
_options["connect_timeout"] = env.int("AURUM_DB_CONNECT_TIMEOUT", default=5)

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "aurum",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            # The API keeps serving (uncached) when Redis is down.
            "IGNORE_EXCEPTIONS": True,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Reads wait longer than the layer's 5 s blocking pop (redis-py 8's 5 s default killed idle sockets at 5 s).
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}], "prefix": "aurum:ws"},
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    # Per-tenant OpenID Connect sign-in (apps/accounts/sso, decision 0032); it answers only the SSO callback.
    "apps.accounts.sso.backend.TenantOidcBackend",
]
# Single sign-on (docs/sso.md): timeouts of calls to tenants' providers, how long discovery documents and
# signing keys are cached, how often an unknown key id may refetch a JWKS, the clock skew allowed on exp/nbf.
AURUM_SSO_HTTP_TIMEOUT_SECONDS = env.float("AURUM_SSO_HTTP_TIMEOUT_SECONDS", default=5.0)
AURUM_SSO_DISCOVERY_CACHE_SECONDS = env.int("AURUM_SSO_DISCOVERY_CACHE_SECONDS", default=3600)
AURUM_SSO_JWKS_REFETCH_SECONDS = env.int("AURUM_SSO_JWKS_REFETCH_SECONDS", default=10)
AURUM_SSO_CLOCK_SKEW_SECONDS = env.int("AURUM_SSO_CLOCK_SKEW_SECONDS", default=30)
# Issuers must be https; local development and the tests run a provider on plain http loopback.
AURUM_SSO_ALLOW_HTTP_ISSUERS = env.bool("AURUM_SSO_ALLOW_HTTP_ISSUERS", default=False)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "portal-login"
LOGIN_REDIRECT_URL = "portal-home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT: Path | None = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Brotli's quality (0-11, checked by the production settings) for what aurum.staticfiles compresses.
AURUM_STATIC_BROTLI_QUALITY = env.int("AURUM_STATIC_BROTLI_QUALITY", default=11)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiTokenAuthentication",
        "apps.accounts.authentication.JwtBearerAuthentication",
        "apps.accounts.authentication.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["aurum.api.permissions.IsTenantMember"],
    # The rate limit first: a request it refuses is not counted against the monthly quota.
    "DEFAULT_THROTTLE_CLASSES": [
        # The plan's rate limit and its API-request quota in one Redis round trip (decision 0057).
        "apps.usage.api.throttling.PlanAdmissionThrottle",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # `format=csv|parquet|xlsx` selects our own output formats (spec 3.1), not a DRF renderer.
    "URL_FORMAT_OVERRIDE": None,
    "EXCEPTION_HANDLER": "aurum.api.problems.problem_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "aurum.api.parsers.StorableJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "aurum.api.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Aurum API",
    "DESCRIPTION": "Energy-market intelligence: curves, scenarios, PPA valuation.",
    "VERSION": "2.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Tags and operation ids come from the path after the version (v1's get a "v1" prefix: aurum.api.openapi).
    "SCHEMA_PATH_PREFIX": r"/api/v[12]",
    "PREPROCESSING_HOOKS": ["aurum.api.openapi.original_aliases_excluded"],
    # Fields named "source" or "status" in several components: each enum is named after its model.
    "ENUM_NAME_OVERRIDES": {
        "ScenarioStatusEnum": "apps.scenarios.models.Scenario.Status",
        "IngestRunSourceEnum": "apps.ingestion.models.IngestRun.Source",
        "FileStampSourceEnum": "apps.ingestion.models.IngestRun.StampSource",
        "ValuationSourceEnum": "apps.ppa.models.PpaValuation.Source",
        "BackfillStatusEnum": "apps.datasets.models.Backfill.Status",
        "BackfillWindowStatusEnum": "apps.datasets.models.BackfillWindow.Status",
        "FeedQuarantineStatusEnum": "apps.feeds.models.FeedQuarantineRow.Status",
        "MappingMethodEnum": "apps.feeds.models.SeriesCurveMapping.Method",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise show a badge fetched from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Schema warnings are the API's to fix and test; `check --deploy` is about deployment safety.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

# Celery: tasks carry the tenant schema (tenant-schemas-celery) and run inside it.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
# Fixed Celery settings (acks, serialisation, Redis outages): aurum/settings/workers.py.
from aurum.settings.workers import *  # noqa: E402, F403 - plain constants, all CELERY_*

# One queue per workload (aurum/queues.py): routed by task name; unrouted tasks go to "maintenance".
CELERY_TASK_ROUTES = TASK_ROUTES
CELERY_TASK_DEFAULT_QUEUE = DEFAULT_QUEUE
# What beat runs when, and which tasks a relayed domain event starts: aurum/settings/schedule.py.
from aurum.settings.schedule import AURUM_EVENT_TASKS as AURUM_EVENT_TASKS  # noqa: E402
from aurum.settings.schedule import CELERY_BEAT_SCHEDULE as CELERY_BEAT_SCHEDULE  # noqa: E402

# Webhooks (docs/decisions/0025): outbound safety, timeouts, retries and when an endpoint is disabled.
# Private, loopback, link-local and metadata addresses are refused unless ALLOW_PRIVATE (tests, the demo).
AURUM_WEBHOOK_ALLOW_PRIVATE = env.bool("AURUM_WEBHOOK_ALLOW_PRIVATE", default=False)
AURUM_WEBHOOK_ALLOW_HTTP = env.bool("AURUM_WEBHOOK_ALLOW_HTTP", default=False)
AURUM_WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("AURUM_WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=3.0)
AURUM_WEBHOOK_TIMEOUT_SECONDS = env.float("AURUM_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
AURUM_WEBHOOK_RESPONSE_MAX_BYTES = env.int("AURUM_WEBHOOK_RESPONSE_MAX_BYTES", default=4096)
AURUM_WEBHOOK_RETRY_HOURS = env.float("AURUM_WEBHOOK_RETRY_HOURS", default=72.0)
AURUM_WEBHOOK_DISABLE_AFTER_FAILURES = env.int("AURUM_WEBHOOK_DISABLE_AFTER_FAILURES", default=50)
AURUM_WEBHOOK_DISABLE_AFTER_HOURS = env.float("AURUM_WEBHOOK_DISABLE_AFTER_HOURS", default=24.0)
# Delivery tasks go to this queue (the resilience drill points it at a worker it kills). An endpoint's lease
# lasts its messages' timeouts plus this slack: what a killed worker's endpoint waits before another retries.
AURUM_WEBHOOK_QUEUE = env.str("AURUM_WEBHOOK_QUEUE", default=WEBHOOKS)
AURUM_WEBHOOK_LEASE_SLACK_SECONDS = env.float("AURUM_WEBHOOK_LEASE_SLACK_SECONDS", default=60.0)
# Relayed domain events are kept this long (webhook catch-up reads them), then pruned.
AURUM_OUTBOX_RETENTION_DAYS = env.int("AURUM_OUTBOX_RETENTION_DAYS", default=7)
# Idempotency-Key (decision 0027): an answer is replayed this long; a first request holds its key at most the
# lease (longer than any request runs), then a retry may run it; a concurrent duplicate waits Retry-After.
AURUM_IDEMPOTENCY_TTL_SECONDS = env.int("AURUM_IDEMPOTENCY_TTL_SECONDS", default=24 * 3600)
AURUM_IDEMPOTENCY_LEASE_SECONDS = env.int("AURUM_IDEMPOTENCY_LEASE_SECONDS", default=300)
AURUM_IDEMPOTENCY_RETRY_AFTER_SECONDS = env.int("AURUM_IDEMPOTENCY_RETRY_AFTER_SECONDS", default=1)
AURUM_WORKER_HEARTBEAT_SECONDS = env.int("AURUM_WORKER_HEARTBEAT_SECONDS", default=10)
# /health/ready: each check's timeout, and how long one answer is reused (a load balancer polling it must not
# turn it into load). /metrics: served on the platform hosts and to these client networks (CIDRs) only.
AURUM_HEALTH_TIMEOUT_SECONDS = env.float("AURUM_HEALTH_TIMEOUT_SECONDS", default=2.0)
AURUM_HEALTH_CACHE_SECONDS = env.float("AURUM_HEALTH_CACHE_SECONDS", default=5.0)
AURUM_METRICS_ALLOW = env.list("AURUM_METRICS_ALLOW", default=[])
# Servers and workers load what their first request or task needs before they say ready (aurum/warmup.py); web
# processes then keep token and curve rows that Postgres notifications empty (decision 0075; false: off).
AURUM_WARM_UP = env.bool("AURUM_WARM_UP", default=True)
AURUM_PROCESS_CACHE = env.bool("AURUM_PROCESS_CACHE", default=True)
# Gauges read at scrape time (queue depth, backlogs, lateness, readiness) are reused this long per process.
AURUM_METRICS_SCRAPE_CACHE_SECONDS = env.float("AURUM_METRICS_SCRAPE_CACHE_SECONDS", default=5.0)
# A Celery worker serves its own counters on this port (0: off); PROMETHEUS_MULTIPROC_DIR for forked children.
AURUM_WORKER_METRICS_PORT = env.int("AURUM_WORKER_METRICS_PORT", default=0)
# OpenTelemetry traces (decision 0031): none (default: no tracer provider at all), otlp (OTEL_EXPORTER_OTLP_*
# variables), console, or file:<path> (JSON lines). OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER: OpenTelemetry's.
AURUM_OTEL_EXPORTER = env.str("AURUM_OTEL_EXPORTER", default="none")

# Lakehouse: pyiceberg SQL catalog in the same Postgres; warehouse folder or s3:// URL.
AURUM_WAREHOUSE = env.str("AURUM_WAREHOUSE", default=(VAR_DIR / "warehouse").as_uri())
# Name of pyiceberg's SQL catalog (its rows in iceberg_tables); Trino's jdbc-catalog.catalog-name must match.
AURUM_ICEBERG_CATALOG = env.str("AURUM_ICEBERG_CATALOG", default="aurum")
# An s3:// warehouse (aurum/lakehouse/storage.py): endpoint for an S3-compatible store (MinIO, Ceph; none for
# AWS), region, and keys (none: the AWS chain, e.g. an instance role).
AURUM_S3_ENDPOINT = env.str("AURUM_S3_ENDPOINT", default="")
AURUM_S3_REGION = env.str("AURUM_S3_REGION", default="us-east-1")
AURUM_S3_ACCESS_KEY_ID = env.str("AURUM_S3_ACCESS_KEY_ID", default="")
AURUM_S3_SECRET_ACCESS_KEY = env.str("AURUM_S3_SECRET_ACCESS_KEY", default="")
# Cache curve and dimension reads in Redis (keys versioned per dataset); off only to measure uncached reads.
AURUM_READ_CACHE = env.bool("AURUM_READ_CACHE", default=True)
# Largest curve export (rows) served in one file; larger requests are refused with a 400.
AURUM_EXPORT_MAX_ROWS = env.int("AURUM_EXPORT_MAX_ROWS", default=1_000_000)
AURUM_QUERY_ENGINE = env.str("AURUM_QUERY_ENGINE", default="duckdb")
AURUM_TRINO_URL = env.str("AURUM_TRINO_URL", default="")

# Scenario runs (docs/decisions/0014-scenario-run-limits.md). Budget: drivers x curve-tenors x paths per run;
# the default fits the benchmark's runs (4 drivers x 20 curves' 3,420 tenors x 2,000 paths = 27.4M) 7 times.
AURUM_SCENARIO_RUN_BUDGET = env.int("AURUM_SCENARIO_RUN_BUDGET", default=200_000_000)
AURUM_SCENARIO_RUN_QUEUE = env.str("AURUM_SCENARIO_RUN_QUEUE", default=SCENARIOS)
# A running run whose worker has not beaten for this long is re-queued by the sweep.
AURUM_SCENARIO_HEARTBEAT_STALE_SECONDS = env.float("AURUM_SCENARIO_HEARTBEAT_STALE_SECONDS", default=60.0)
# A dispatched run no worker started this long after it was due is sent again by the sweep.
AURUM_SCENARIO_STALE_DISPATCH_SECONDS = env.float("AURUM_SCENARIO_STALE_DISPATCH_SECONDS", default=120.0)
# Longest lock wait of the sweep per tenant (then that tenant is skipped this round) and of a worker's commit.
AURUM_SCENARIO_SWEEP_LOCK_TIMEOUT_SECONDS = env.float(
    "AURUM_SCENARIO_SWEEP_LOCK_TIMEOUT_SECONDS", default=5.0
)
AURUM_SCENARIO_COMMIT_LOCK_TIMEOUT_SECONDS = env.float(
    "AURUM_SCENARIO_COMMIT_LOCK_TIMEOUT_SECONDS", default=60.0
)

# Structured JSON logs (structlog) with request id, tenant and user on every line.
AURUM_LOG_LEVEL = env.str("AURUM_LOG_LEVEL", default="INFO")
AURUM_LOG_FORMAT = env.str("AURUM_LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": "aurum.observability.logging.structured_formatter",
            "renderer": AURUM_LOG_FORMAT,
        }
    },
    # Secrets never logged (aurum/observability/redaction.py): the console handler rewrites every record it
    # writes; the loggers that write URLs and paths rewrite theirs before any handler (tests' capture too).
    "filters": {
        "redact_secrets": {"()": "aurum.observability.redaction.RedactSecretsFilter"},
        "probe_not_ready": {"()": "aurum.health.logging.ProbeNotReadyFilter"},  # a 503 probe is no error
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "structured",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": AURUM_LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"level": "WARNING", "filters": ["redact_secrets"]},
        "django.request": {"filters": ["probe_not_ready", "redact_secrets"]},
        "django.security.csrf": {"filters": ["redact_secrets"]},
        "aurum.access": {"filters": ["redact_secrets"]},
        "uvicorn.access": {"level": "WARNING", "filters": ["redact_secrets"]},
        "uvicorn.error": {"filters": ["redact_secrets"]},
        # httpx logs each request's full URL at INFO: EIA and FRED take their API key in the query string.
        # The feeds log the URL without it themselves (apps/feeds/adapters/base.py); at any level the filter
        # takes the key out of httpx's line.
        "httpx": {"level": "WARNING", "filters": ["redact_secrets"]},
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
# Portal sessions: a working day at most, and gone when the browser closes; sent on top-level navigation from
# elsewhere (an emailed link) but not on other sites' forms or requests. Signing in starts a new session key.
SESSION_COOKIE_AGE = env.int("AURUM_SESSION_HOURS", default=10) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "aurum.api.problems.csrf_failure"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (docs/decisions/0019-portal-stack.md): nothing leaves the host, no inline script or
# style. CSP3's 'self' covers ws:/wss: to the same host, so the portal's websockets need nothing more. The
# API docs (Swagger UI's inline bootstrap) and the Django admin keep their own pages without the policy.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/v2/docs/", "/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The longest query string answered (a longer one is a 414 problem): as nginx's default header buffer;
# gunicorn refuses request lines over 4 KB before Aurum sees them.
AURUM_MAX_QUERY_STRING_BYTES = env.int("AURUM_MAX_QUERY_STRING_BYTES", default=8 * 1024)

# Lakehouse maintenance (decision 0038): a snapshot goes this long after a newer one replaced
# it, unless a record pins it; files no snapshot names go once this old; a partition with COMPACT_MIN_FILES+
# files under SMALL_FILE_BYTES is rewritten; a table locked longer than LOCK_WAIT_SECONDS waits a pass.
AURUM_LAKEHOUSE_SNAPSHOT_RETENTION_DAYS = env.int("AURUM_LAKEHOUSE_SNAPSHOT_RETENTION_DAYS", default=7)
AURUM_LAKEHOUSE_ORPHAN_AGE_HOURS = env.int("AURUM_LAKEHOUSE_ORPHAN_AGE_HOURS", default=72)
AURUM_LAKEHOUSE_COMPACT_MIN_FILES = env.int("AURUM_LAKEHOUSE_COMPACT_MIN_FILES", default=8)
AURUM_LAKEHOUSE_SMALL_FILE_BYTES = env.int("AURUM_LAKEHOUSE_SMALL_FILE_BYTES", default=32 * 1024 * 1024)
AURUM_LAKEHOUSE_LOCK_WAIT_SECONDS = env.float("AURUM_LAKEHOUSE_LOCK_WAIT_SECONDS", default=30.0)

# Ingestion
# Deprecated (decision 0041; removed in the next release): a UTC deadline per vendor dataset
# (AURUM_PUBLICATION_DEADLINES=vendor:EUGP=17:00,vendor:RP=22:00) or for all (AURUM_PUBLICATION_DEADLINE_UTC).
# When set, each becomes its dataset contract's due time (apps/ingestion/contracts.py); warned at start.
AURUM_PUBLICATION_DEADLINE_UTC = env.str("AURUM_PUBLICATION_DEADLINE_UTC", default="")
AURUM_PUBLICATION_DEADLINES: dict[str, str] = env.dict("AURUM_PUBLICATION_DEADLINES", default={})
AURUM_INGEST_MAX_BYTES = env.int("AURUM_INGEST_MAX_BYTES", default=50 * 1024 * 1024)
AURUM_INGEST_DROP_DIR = env.str("AURUM_INGEST_DROP_DIR", default=str(VAR_DIR / "drop"))
# Deliveries of one ingest run that may die (worker killed, e.g. out of memory) before the next one fails it.
AURUM_INGEST_MAX_DELIVERIES = env.int("AURUM_INGEST_MAX_DELIVERIES", default=4)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Market fundamentals feeds (apps/feeds, decision 0029): provider keys; a fetch without its key fails with
# the status "no_api_key" on its run. Retries on 429/5xx back off exponentially from the base delay.
AURUM_EIA_API_KEY = env.str("AURUM_EIA_API_KEY", default="")
AURUM_FRED_API_KEY = env.str("AURUM_FRED_API_KEY", default="")
AURUM_NOAA_TOKEN = env.str("AURUM_NOAA_TOKEN", default="")
# PJM Data Miner 2 subscription key; ERCOT public API: the subscription key and the ERCOT API account whose
# username and password get the bearer token (decision 0042).
AURUM_PJM_API_KEY = env.str("AURUM_PJM_API_KEY", default="")
AURUM_ERCOT_SUBSCRIPTION_KEY = env.str("AURUM_ERCOT_SUBSCRIPTION_KEY", default="")
AURUM_ERCOT_USERNAME = env.str("AURUM_ERCOT_USERNAME", default="")
AURUM_ERCOT_PASSWORD = env.str("AURUM_ERCOT_PASSWORD", default="")
AURUM_FEEDS_RETRIES = env.int("AURUM_FEEDS_RETRIES", default=3)
AURUM_FEEDS_BACKOFF_SECONDS = env.float("AURUM_FEEDS_BACKOFF_SECONDS", default=1.0)
AURUM_FEEDS_TIMEOUT_SECONDS = env.float("AURUM_FEEDS_TIMEOUT_SECONDS", default=30.0)
# A fetch still running after this long lost its worker: its window may be claimed again.
AURUM_FEEDS_CLAIM_TIMEOUT_SECONDS = env.int("AURUM_FEEDS_CLAIM_TIMEOUT_SECONDS", default=1800)
# Backfills (decision 0036): at most this many windows per backfill; a window running longer than the claim
# timeout lost its worker and is queued again by the sweep; EOD workbooks are read from this folder (the
# `backfill` command takes another with --folder).
# The calendar scheduler sends a due window's fetch again after this many minutes while it has not landed.
AURUM_FEEDS_SCHEDULE_RETRY_MINUTES = env.int("AURUM_FEEDS_SCHEDULE_RETRY_MINUTES", default=15)
# Intraday (real-time) feeds: every interval expected within this many minutes and not fetched is sent
# (decision 0042); an older missing interval is a backfill's work.
AURUM_FEEDS_INTRADAY_CATCHUP_MINUTES = env.int("AURUM_FEEDS_INTRADAY_CATCHUP_MINUTES", default=120)
AURUM_BACKFILL_MAX_WINDOWS = env.int("AURUM_BACKFILL_MAX_WINDOWS", default=1000)
AURUM_BACKFILL_CLAIM_TIMEOUT_SECONDS = env.int("AURUM_BACKFILL_CLAIM_TIMEOUT_SECONDS", default=1800)
AURUM_BACKFILL_EOD_DIR = env.str("AURUM_BACKFILL_EOD_DIR", default=str(VAR_DIR / "eod-archive"))

# Mail (member invitations). The demo writes each message to a file under var/mail/ (DJANGO_EMAIL_BACKEND
# filebased, set by aurum.devstack); tests use Django's in-memory outbox.
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = env.str("AURUM_MAIL_DIR", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Aurum <no-reply@aurum.localhost>")
# An invitation link works once, for this many days.
AURUM_INVITATION_DAYS = env.int("AURUM_INVITATION_DAYS", default=7)
# Tenant exports (docs/decisions/0033): where the archives are written, and how long a download stays.
AURUM_EXPORT_DIR = env.str("AURUM_EXPORT_DIR", default=str(VAR_DIR / "exports"))
AURUM_EXPORT_DAYS = env.int("AURUM_EXPORT_DAYS", default=7)

# Throttles beside the plans' API limits (aurum/api/throttling.py; Redis down → not enforced, logged):
# failed portal sign-ins per email and per client IP within a window, and websocket connects per tenant and
# credential per minute. An open websocket re-checks its credential every AURUM_WS_RECHECK_SECONDS.
AURUM_SIGNIN_FAILURES_PER_EMAIL = env.int("AURUM_SIGNIN_FAILURES_PER_EMAIL", default=10)
AURUM_SIGNIN_FAILURES_PER_IP = env.int("AURUM_SIGNIN_FAILURES_PER_IP", default=30)
AURUM_SIGNIN_WINDOW_SECONDS = env.int("AURUM_SIGNIN_WINDOW_SECONDS", default=300)
AURUM_WS_CONNECTS_PER_MINUTE = env.int("AURUM_WS_CONNECTS_PER_MINUTE", default=30)
AURUM_WS_RECHECK_SECONDS = env.float("AURUM_WS_RECHECK_SECONDS", default=15.0)

# django-auditlog's row history: its correlation id is the request id (X-Request-Id).
AUDITLOG_CID_GETTER = "aurum.observability.context.current_request_id"
