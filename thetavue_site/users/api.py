"""REST endpoints of the users app: profile, erase, export, API tokens, Clerk webhooks,
notifications (DESIGN §11). Views parse, call one service or selector, and shape."""

from __future__ import annotations

from django.contrib.auth import logout
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from thetavue_site.api.errors import Refused
from thetavue_site.api.serializers import StrictBooleanField, StrictInputSerializer
from thetavue_site.api.views import StrictApiView, StrictInputMixin
from thetavue_site.api.viewsets import OwnerScopedViewSet
from thetavue_site.api_input import JSONParser
from thetavue_site.users import notifications, privacy, selectors, services, tokens, webhooks
from thetavue_site.users.idempotency import IdempotentMixin
from thetavue_site.users.identity import AuthIdentity
from thetavue_site.users.models import ApiToken, Notification
from thetavue_site.users.permissions import IsAuthenticatedWithScope, IsSignedInSession

# --- Serializers ----------------------------------------------------------------


class MeOutput(serializers.Serializer):
    id = serializers.CharField(source="clerk_id", help_text="Clerk's user_… or a local_… id.")
    email = serializers.EmailField()
    display_name = serializers.CharField()
    notify_by_email = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    auth_method = serializers.SerializerMethodField(
        help_text="How this request authenticated: clerk, dev, api_token or session."
    )

    def get_auth_method(self, user) -> str:
        return _auth_method(self.context["request"])


def _auth_method(request) -> str:
    identity = request.auth
    return identity.method if isinstance(identity, AuthIdentity) else "session"


_CREATED_AT = serializers.DateTimeField()


def me_body(request) -> dict:
    """MeOutput's JSON for the caller, without building a serializer per request.

    /api/auth/me is the call every client makes first and often; MeOutput's
    field copies cost more than the rest of its view. test_me_api checks the
    two give the same body.
    """
    user = request.user
    return {
        "id": user.clerk_id,
        "email": user.email,
        "display_name": user.display_name,
        "notify_by_email": user.notify_by_email,
        "created_at": _CREATED_AT.to_representation(user.created_at),
        "auth_method": _auth_method(request),
    }


class MeUpdateInput(StrictInputSerializer):
    display_name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    notify_by_email = StrictBooleanField(required=False)


class EraseInput(StrictInputSerializer):
    confirm = serializers.CharField(
        help_text="The account's email (its id when it has no email), to confirm the erasure."
    )


class ExportOutput(serializers.Serializer):
    format_version = serializers.IntegerField()
    exported_at = serializers.DateTimeField()
    user_id = serializers.CharField()
    tables = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField()),
        help_text="Rows by table name; money as decimal strings, times in UTC.",
    )


class ApiTokenOutput(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "scope",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "scope": {
                "help_text": "read: GET, HEAD, OPTIONS and POST /api/portfolio/{id}/what-if "
                "(it computes and stores nothing); read_write: every method."
            },
            "last_used_at": {"help_text": "Updated at most once a minute."},
        }


class ApiTokenCreatedOutput(ApiTokenOutput):
    token = serializers.CharField(
        help_text="The token (tv_…). Shown only in this response; store it now."
    )

    class Meta(ApiTokenOutput.Meta):
        fields = [*ApiTokenOutput.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenCreateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices, default=ApiToken.Scope.READ)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value


class ApiTokenUpdateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100)


class WebhookOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["processed", "duplicate", "ignored"])


class NotificationOutput(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "level", "title", "body", "link", "read_at", "created_at"]
        read_only_fields = fields


class MarkAllReadOutput(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread.")


# --- Profile, erase, export ------------------------------------------------------


class MeApi(StrictApiView):
    def get_permissions(self):
        if self.request.method == "DELETE":
            return [IsSignedInSession()]
        return [IsAuthenticatedWithScope()]

    @extend_schema(responses={200: MeOutput}, operation_id="auth_me_retrieve")
    def get(self, request):
        return Response(me_body(request))

    @extend_schema(
        request=MeUpdateInput,
        responses={200: MeOutput},
        operation_id="auth_me_partial_update",
    )
    def patch(self, request):
        data = MeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **data.validated_data)
        return Response(MeOutput(user, context={"request": request}).data)

    @extend_schema(
        request=EraseInput,
        responses={204: OpenApiResponse(description="Erased.")},
        operation_id="auth_me_destroy",
        description="Erase the account and everything it owns (broker tokens first).",
    )
    def delete(self, request):
        data = EraseInput(data=request.data)
        data.is_valid(raise_exception=True)
        privacy.user_erase_confirmed(user=request.user, confirm=data.validated_data["confirm"])
        if not isinstance(request.auth, AuthIdentity):
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportApi(StrictApiView):
    permission_classes = [IsAuthenticatedWithScope]

    @extend_schema(responses={200: ExportOutput}, operation_id="auth_export")
    def get(self, request):
        document = privacy.user_export(user=request.user)
        response = Response(ExportOutput(document).data)
        filename = privacy.export_filename()
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


# --- Personal API tokens -----------------------------------------------------------


class ApiTokenListApi(IdempotentMixin, StrictInputMixin, GenericAPIView):
    serializer_class = ApiTokenOutput
    idempotency_sensitive = True  # the new token's secret is shown once

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsSignedInSession()]  # a token cannot mint tokens
        return [IsAuthenticatedWithScope()]

    def get_queryset(self):
        return selectors.api_token_list_for_user(user=self.request.user)

    def pages(self) -> bool:
        return self.request.method == "GET"  # the list; POST creates one

    @extend_schema(responses={200: ApiTokenOutput(many=True)})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiTokenOutput(page, many=True).data)

    @extend_schema(request=ApiTokenCreateInput, responses={201: ApiTokenCreatedOutput})
    def post(self, request):
        data = ApiTokenCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        token, raw = tokens.api_token_create(user=request.user, **data.validated_data)
        token.token = raw
        return Response(ApiTokenCreatedOutput(token).data, status=status.HTTP_201_CREATED)


class ApiTokenDetailApi(StrictInputMixin, GenericAPIView):
    serializer_class = ApiTokenOutput

    def get_permissions(self):
        if self.request.method in ("PATCH", "DELETE"):
            return [IsSignedInSession()]
        return [IsAuthenticatedWithScope()]

    def get_queryset(self):
        return selectors.api_token_list_for_user(user=self.request.user)

    def get_object(self) -> ApiToken:
        # Another user's token is a 404: its existence is not ours to reveal.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(responses={200: ApiTokenOutput})
    def get(self, request, pk: int):
        return Response(ApiTokenOutput(self.object).data)

    @extend_schema(request=ApiTokenUpdateInput, responses={200: ApiTokenOutput})
    def patch(self, request, pk: int):
        token = self.object
        data = ApiTokenUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        token = tokens.api_token_rename(token=token, name=data.validated_data["name"])
        return Response(ApiTokenOutput(token).data)

    @extend_schema(
        responses={204: OpenApiResponse(description="Revoked.")},
        description="Revoke the token: it answers 401 from now on.",
    )
    def delete(self, request, pk: int):
        tokens.api_token_revoke(token=self.object)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Clerk webhooks ----------------------------------------------------------------


class ClerkWebhookApi(APIView):
    """Clerk's user.* events through Svix. The signature is the authentication.

    Not a StrictApiView: the signed body is all it reads, and the URL is
    whatever the operator typed into Clerk's dashboard.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]  # documented only; the raw body is what is verified

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: WebhookOutput},
        operation_id="auth_webhooks_clerk",
    )
    def post(self, request):
        try:
            message_id, event = webhooks.webhook_verify(body=request.body, headers=request.headers)
        except webhooks.WebhookRejected as rejected:
            raise Refused(str(rejected), code="invalid_webhook") from None
        outcome = webhooks.webhook_process(message_id=message_id, event=event)
        return Response({"status": outcome})


# --- Notifications -----------------------------------------------------------------


class NotificationListQuery(StrictInputSerializer):
    unread = StrictBooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: unread only; false: read only; absent: all.",
    )


class NotificationViewSet(IdempotentMixin, OwnerScopedViewSet):
    """The signed-in user's notifications, newest first."""

    queryset = Notification.objects.none()
    serializer_class = NotificationOutput
    permission_classes = [IsAuthenticatedWithScope]

    def get_query_serializer_class(self):
        if self.action == "list":
            return NotificationListQuery
        return super().get_query_serializer_class()

    def owner_scope(self):
        unread = self.query.get("unread") if self.action == "list" else None
        return selectors.notification_list_for_user(user=self.request.user, unread=unread)

    @extend_schema(
        parameters=[NotificationListQuery],
        responses={200: NotificationOutput(many=True)},
    )
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={200: NotificationOutput})
    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(responses={204: OpenApiResponse(description="Deleted.")})
    def destroy(self, request, pk=None):
        notifications.notification_delete(notification=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: NotificationOutput})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = notifications.notification_mark_read(notification=self.get_object())
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses={200: MarkAllReadOutput})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        marked = notifications.notification_mark_all_read(user=request.user)
        return Response({"marked": marked})
