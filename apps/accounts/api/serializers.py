from django.utils import timezone
from rest_framework import serializers

from apps.accounts.models import ApiToken, Invitation, Membership
from apps.accounts.roles import ALL_PERMISSIONS, Role


class TokenCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(ALL_PERMISSIONS)), required=False, max_length=32
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    member = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="A member's id (from /api/v2/members) to issue the token to; needs tokens:manage.",
    )


class TokenOutput(serializers.ModelSerializer):
    owner = serializers.EmailField(source="membership.user.email")
    member = serializers.IntegerField(source="membership_id")
    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "owner",
            "member",
            "parent",
            "scopes",
            "created",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "active",
        ]
        read_only_fields = fields  # "parent" renders as the parent token's id (null for none)

    def get_active(self, token: ApiToken) -> bool:
        return token.is_usable()


class MemberOutput(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    joined = serializers.DateTimeField(source="created", help_text="When they joined this tenant.")

    class Meta:
        model = Membership
        fields = ["id", "email", "full_name", "role", "joined"]
        read_only_fields = fields


class MemberRoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationCreateInput(serializers.Serializer):
    # The address is checked by the service (one message for the portal and the API); 254 is RFC 5321's.
    email = serializers.CharField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationOutput(serializers.ModelSerializer):
    """An invitation without its link: the link's signed token goes to the invited address only."""

    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by", "created", "expires_at", "accepted_at"]
        read_only_fields = fields

    def get_status(self, invitation: Invitation) -> str:
        """open, accepted, revoked or expired."""
        if invitation.accepted_at is not None:
            return "accepted"
        if invitation.revoked_at is not None:
            return "revoked"
        return "open" if invitation.expires_at > timezone.now() else "expired"


class InvitationAcceptInput(serializers.Serializer):
    token = serializers.CharField(
        max_length=200, help_text="The token of the emailed link (after /invitations/)."
    )
    password = serializers.CharField(
        max_length=256,
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=False,
        help_text="A new user's password, or their existing account's (not needed when signed in as them).",
    )
    full_name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)


class MembershipJoinedOutput(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    tenant = serializers.CharField(source="tenant.schema_name")

    class Meta:
        model = Membership
        fields = ["id", "email", "tenant", "role"]
        read_only_fields = fields
