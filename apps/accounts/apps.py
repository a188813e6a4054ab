from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.accounts import schema  # noqa: F401 - registers the OpenAPI security schemes
        from apps.accounts.models import ApiToken, Invitation, Membership, User

        auditlog.register(User, exclude_fields=["password", "last_login"])
        auditlog.register(Membership)
        auditlog.register(ApiToken, exclude_fields=["key_hash", "last_used_at"])
        auditlog.register(Invitation)
