"""Portal sign-in is throttled per email and per client IP, through the real form (Redis token buckets)."""

import time

import pytest

from apps.accounts.services import membership_create, user_create
from tenants.models import Tenant

PASSWORD = "right-password-123"


@pytest.fixture
def member(world) -> str:
    """A fresh member of acme (its email has no failures behind it)."""
    email = f"member{time.time_ns()}@acme.example"
    user = user_create(email=email, password=PASSWORD)
    membership_create(user=user, tenant=Tenant.objects.get(schema_name="acme"), role="analyst")
    return email


def _sign_in(api, world, email: str, password: str, ip: str):
    return api.post(
        "/login/", {"email": email, "password": password}, HTTP_HOST=world.acme.host, REMOTE_ADDR=ip
    )


def test_ten_failures_lock_the_email_out_whatever_the_address(world, api, member):
    failures = [_sign_in(api, world, member, "wrong-password", f"10.1.0.{i}") for i in range(10)]

    locked = _sign_in(api, world, member, PASSWORD, "10.1.1.1")  # even the right password, from elsewhere

    assert [r.status_code for r in failures] == [401] * 10
    assert locked.status_code == 429
    # 10 failures per 300 s: the next attempt in 30 s, less the time the eleven sign-ins took.
    wait = int(locked["Retry-After"])
    assert 20 <= wait <= 30
    assert f"Too many failed sign-ins. Try again in {wait} seconds." in locked.content.decode()
    assert api.get("/", HTTP_HOST=world.acme.host).status_code == 302  # not signed in
    # Another member signing in from the same address is not affected.
    other = world.acme.members["trader"]
    assert _sign_in(api, world, other.email, other.password, "10.1.1.1").status_code == 302


def test_failures_from_one_address_lock_that_address_out(world, api, settings):
    settings.AURUM_SIGNIN_FAILURES_PER_IP = 5
    guesses = [_sign_in(api, world, f"nobody{i}@acme.example", "guess-guess", "10.2.0.1") for i in range(5)]
    viewer = world.acme.members["viewer"]

    from_there = _sign_in(api, world, viewer.email, viewer.password, "10.2.0.1")
    from_elsewhere = _sign_in(api, world, viewer.email, viewer.password, "10.2.0.2")

    assert [r.status_code for r in guesses] == [401] * 5
    assert from_there.status_code == 429
    assert 50 <= int(from_there["Retry-After"]) <= 60  # 5 failures per 300 s: 60 s, less the time taken
    assert from_elsewhere.status_code == 302


def test_a_success_frees_nobody_elses_bucket(world, api, member, settings):
    settings.AURUM_SIGNIN_FAILURES_PER_IP = 12
    attacker = world.acme.members["analyst"]
    for _ in range(10):
        _sign_in(api, world, member, "wrong-password", "10.3.0.1")

    own = _sign_in(api, world, attacker.email, attacker.password, "10.3.0.1")
    api.logout()
    victim = _sign_in(api, world, member, PASSWORD, "10.3.0.2")
    more = [_sign_in(api, world, f"other{i}@acme.example", "guess-guess", "10.3.0.1") for i in range(2)]
    address = _sign_in(api, world, attacker.email, attacker.password, "10.3.0.1")

    assert own.status_code == 302  # the attacker's own account signs in...
    assert victim.status_code == 429  # ...which reset neither the victim's bucket
    assert [r.status_code for r in more] == [401, 401]
    assert address.status_code == 429  # ...nor the address's (10 + 2 failures = 12)


def test_sign_in_is_not_throttled_when_redis_is_down(world, api, member, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    failures = [_sign_in(api, world, member, "wrong-password", "10.4.0.1") for _ in range(12)]
    success = _sign_in(api, world, member, PASSWORD, "10.4.0.1")

    assert [r.status_code for r in failures] == [401] * 12
    assert success.status_code == 302


def test_a_locked_out_email_signs_in_again_once_the_window_has_passed(world, api, member, settings):
    settings.AURUM_SIGNIN_FAILURES_PER_EMAIL = 2
    settings.AURUM_SIGNIN_WINDOW_SECONDS = 2  # one more attempt per second once locked
    failures = [_sign_in(api, world, member, "wrong-password", f"10.5.0.{i}") for i in range(2)]
    locked = _sign_in(api, world, member, PASSWORD, "10.5.1.1")
    wait = int(locked["Retry-After"])

    time.sleep(wait + 0.1)
    unlocked = _sign_in(api, world, member, PASSWORD, "10.5.1.1")

    assert [r.status_code for r in failures] == [401, 401]
    assert locked.status_code == 429 and 1 <= wait <= 2
    assert unlocked.status_code == 302
