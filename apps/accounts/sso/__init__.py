"""Per-tenant OpenID Connect: portal single sign-on (mozilla-django-oidc, configured per request from the
tenant's ``TenantSsoConfig``) and bearer JWTs of the tenant's issuer on the v1 API. Decision 0032."""
