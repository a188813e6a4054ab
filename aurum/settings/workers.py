"""Celery's fixed settings (part of the settings; imported by base.py).

Plain constants: no environment is read here (the broker and result URLs are in base.py).
"""

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
# Nobody waits on a task's result (tasks record their outcome in the database); a sender that asks for one
# subscribes to it in Redis, which hung and then failed sends while Redis was down (aurum/celery.py). A task
# whose result is read (the tests' diagnostic) says ignore_result=False.
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis down (decision 0043, tests/resilience/test_service_outages.py). Workers and beat reconnect by
# themselves for as long as it takes (no process restart), with a consumer that survives the loss
# (aurum/celery_consumer.py). Every Redis socket of Celery has a timeout, so a send or a result write fails
# within seconds instead of hanging on an unreachable host; a send from a request is tried 3 times in ~1 s
# (its callers log the failure and leave the work to a beat sweep).
CELERY_WORKER_CONSUMER = "aurum.celery_consumer:Consumer"
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
    "health_check_interval": 10,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 10
CELERY_REDIS_BACKEND_HEALTH_CHECK_INTERVAL = 10
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 3,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A pool process tells the main process it is up only after its warm-up (``worker_process_init``,
# aurum/celery.py), and a replacement child (``--max-tasks-per-child``, a crash) that takes longer than this
# is killed: Celery's 4 s default is shorter than the warm-up on a loaded machine (5.8–8.8 s seen, decision
# 0046), so replacements could be killed in a loop (read in Celery's asynpool; not observed).
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 60.0
# Celery's Django fixup closes every database connection before and after each task unless this is set: a new
# Postgres connection (a backend started, the handshake) for every scenario run and webhook fan-out (decision
# 0050). With it the fixup never closes them; aurum/celery.py closes them as Django does around a request
# instead (broken, or older than CONN_MAX_AGE; a kept one is health-checked before its next use).
CELERY_DB_REUSE_MAX = 2**62
