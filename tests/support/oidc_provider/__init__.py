"""A real OpenID Connect provider for the SSO tests: django-oauth-toolkit with OIDC enabled, as a separate
small Django project (its own settings and SQLite database) that ``tests/support/oidc.py`` runs in a
subprocess on a loopback port. Never imported by Aurum itself."""
