from rest_framework import serializers

from apps.accounts.models import ApiToken, Membership
from apps.accounts.roles import ALL_PERMISSIONS


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

    class Meta:
        model = Membership
        fields = ["id", "email", "full_name", "role", "created"]
