"""What every portal page must satisfy (decision 0019): a policy that keeps requests on the host, and no
inline script, style or event handler. Shared by the page suites that keep their own page lists."""

import re

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def policy_of(header: str) -> dict[str, str]:
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in directives}


def assert_page_keeps_the_policy(response) -> None:  # type: ignore[no-untyped-def]
    """The response's policy and its HTML: scripts from /static/ only (JSON blocks aside), no inline style."""
    policy = policy_of(response["Content-Security-Policy"])
    assert {name: policy.get(name) for name in POLICY} == POLICY
    html = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts, "the page loads its scripts"
    for attributes, body in scripts:
        executable = 'type="application/json"' not in attributes
        assert not (executable and body.strip()), f"inline script: {body[:80]}"
        assert not executable or re.search(r'src="/static/', attributes), attributes
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert not re.search(r"\shx-on", html)
