"""Identity lives in the public schema: users, their memberships in tenants, and API tokens."""

from datetime import datetime
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from apps.accounts.roles import Role, role_permissions
from aurum.sealing import SSO_CLIENT_SECRET, SealedTextField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> "User":
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Platform staff: may use the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="uniq_membership")]
        ordering = ["tenant__name", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"

    @property
    def permissions(self) -> frozenset[str]:
        return role_permissions(self.role)


class ApiToken(models.Model):
    """A bearer credential of one membership. Only the SHA-256 of the secret is stored."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The token that minted this one (None when a session, the admin or provisioning created it). A child
    # never outlives its parent nor has wider scopes, is revoked with it, and goes when it is deleted.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def permissions(self) -> frozenset[str]:
        """What the token may do: its scopes, never more than its membership's role grants today."""
        return self.membership.permissions & frozenset(self.scopes)


class Invitation(models.Model):
    """An invitation to join a tenant with a role, sent by email as a signed link that expires.

    The link carries the invitation's id signed with the secret key (``apps.accounts.invitations``); the row
    says whether it is still open: accepting or revoking it closes it, so a link works once.
    """

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["tenant", "email"])]

    def __str__(self) -> str:
        return f"{self.email} → {self.tenant} ({self.role})"

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class TenantSsoConfig(models.Model):
    """A tenant's OpenID Connect provider: portal single sign-on and bearer JWTs on v1 (decision 0032).

    One per tenant, in the public schema beside the identities it maps to. The client secret is sealed at rest
    and never shown back; ``role_mapping`` maps values of ``role_claim`` to roles.
    """

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="sso_config")
    is_enabled = models.BooleanField(default=False, help_text="Show the SSO button and accept sign-ins.")
    issuer = models.URLField(max_length=500, help_text="The provider's issuer URL, exactly as in its tokens.")
    client_id = models.CharField(max_length=255)
    client_secret = SealedTextField(blank=True, purpose=SSO_CLIENT_SECRET)
    scopes = models.CharField(max_length=500, default="openid email profile")
    role_claim = models.CharField(
        max_length=100, default="groups", help_text="The claim holding the user's groups or role."
    )
    role_mapping = models.JSONField(default=dict, blank=True, help_text="Claim value → Aurum role.")
    default_role = models.CharField(
        max_length=16,
        choices=Role.choices,
        blank=True,
        help_text="The role when no claim value maps; empty: refuse the sign-in.",
    )
    jit_provisioning = models.BooleanField(
        default=False, help_text="Create the user and membership on a first sign-in."
    )
    sso_only = models.BooleanField(default=False, help_text="Members cannot sign in with a password.")
    provider_logout = models.BooleanField(
        default=False, help_text="Signing out also ends the session at the provider."
    )
    button_label = models.CharField(max_length=80, blank=True)
    jwt_enabled = models.BooleanField(
        default=False, help_text="Accept this issuer's bearer JWTs on the v1 API."
    )
    jwt_audience = models.CharField(
        max_length=255, blank=True, help_text="The JWTs' audience; empty: the client id."
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "tenant SSO configuration"

    def __str__(self) -> str:
        return f"{self.tenant} → {self.issuer}"

    @property
    def audience(self) -> str:
        return self.jwt_audience or self.client_id
