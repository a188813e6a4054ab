"""Sign-in throttle (the portal's sign-in, and confirming a password to accept an invitation, in the portal
or the API): failed sign-ins per email and per client IP, in the API's Redis token buckets.

Each bucket holds ``AURUM_SIGNIN_FAILURES_PER_*`` failures and refills over ``AURUM_SIGNIN_WINDOW_SECONDS``:
that many failures in a row lock the email (or the address) out, then one more attempt is allowed per
window / limit seconds. Only failures take a token, so a member's successful sign-in neither costs anything
nor frees anyone else's bucket. The email is keyed by its hash (no addresses in Redis); the same password
opens every tenant, so the email bucket is shared across tenant hosts.
"""

import hashlib

from django.conf import settings

from aurum.api.throttling import Limit


def signin_limits(*, email: str, client_ip: str) -> list[Limit]:
    window = settings.AURUM_SIGNIN_WINDOW_SECONDS
    per_email = settings.AURUM_SIGNIN_FAILURES_PER_EMAIL
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return [
        Limit(key=f"aurum:signin:email:{digest}", burst=per_email, per_second=per_email / window),
        signin_ip_limit(client_ip=client_ip),
    ]


def signin_ip_limit(*, client_ip: str) -> Limit:
    """The client address's bucket alone (failures before any email is known: a mangled invitation link)."""
    per_ip = settings.AURUM_SIGNIN_FAILURES_PER_IP
    return Limit(
        key=f"aurum:signin:ip:{client_ip}",
        burst=per_ip,
        per_second=per_ip / settings.AURUM_SIGNIN_WINDOW_SECONDS,
    )
