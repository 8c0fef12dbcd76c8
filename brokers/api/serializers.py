"""Shapes of the Tastytrade connection API: runs, connections, status, and strict inputs."""

from rest_framework import serializers

from brokers.models import BrokerConnection, SyncRun
from thetavue_site.api.serializers import StrictInputSerializer


class SyncRunOutput(serializers.ModelSerializer):
    counts = serializers.SerializerMethodField(
        help_text="Accounts, positions added/updated/closed, transactions added, and "
        "warnings: legs set aside (unreadable or unpriced) by a run that succeeded."
    )
    connection_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "connection_id",
            "trigger",
            "status",
            "progress",
            "started_at",
            "finished_at",
            "duration_ms",
            "counts",
            "timings",
            "error",
        ]
        extra_kwargs = {
            "status": {"help_text": "queued, running, succeeded, failed or skipped."},
            "duration_ms": {"help_text": "Wall time of the run in milliseconds."},
            "timings": {
                "help_text": "Milliseconds per step: accounts, positions, quotes, pricing, write."
            },
        }

    def get_counts(self, run: SyncRun) -> dict[str, int]:
        return {
            "accounts": run.accounts_synced,
            "positions_added": run.positions_added,
            "positions_updated": run.positions_updated,
            "positions_closed": run.positions_closed,
            "transactions_added": run.transactions_added,
            "warnings": run.warnings,
            "requests": run.requests_made,
        }


class ConnectionOutput(serializers.ModelSerializer):
    portfolio_ids = serializers.SerializerMethodField()

    class Meta:
        model = BrokerConnection
        fields = [
            "id",
            "broker",
            "environment",
            "status",
            "scopes",
            "last_synced_at",
            "last_error",
            "last_error_at",
            "consecutive_failures",
            "portfolio_ids",
            "created_at",
        ]
        extra_kwargs = {
            "status": {
                "help_text": "active, syncing, needs_reauth (reconnect required), error, disabled."
            },
            "last_synced_at": {"help_text": "Time of the last successful sync."},
            "last_error": {
                "help_text": "The last failure, in plain words; empty when the last sync succeeded."
            },
        }

    def get_portfolio_ids(self, connection: BrokerConnection) -> list[int]:
        return sorted(p.pk for p in connection.portfolios.all())


class ConnectionStatusOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    last_synced_at = serializers.DateTimeField(allow_null=True)
    next_sync_at = serializers.DateTimeField(
        allow_null=True, help_text="Next scheduled sync (before jitter)."
    )
    last_error = serializers.CharField(allow_blank=True)
    consecutive_failures = serializers.IntegerField()
    last_run = SyncRunOutput(allow_null=True)


class StatusOutput(serializers.Serializer):
    connections = ConnectionStatusOutput(many=True)


class AuthorizeOutput(serializers.Serializer):
    authorize_url = serializers.URLField(
        help_text="Open this in the browser to grant ThetaVue read access."
    )


class NoBody(StrictInputSerializer):
    """The body of a command that reads none: an empty body or `{}`; any key is a 400."""


class CallbackQuery(StrictInputSerializer):
    """What the authorization server appends to the redirect URI (RFC 6749 §4.1.2, RFC 9207).

    Tastytrade may add the granted `scope`; the other OAuth parameters are
    known too. Unlike the rest of the API, other keys are ignored, not
    refused: this is the broker's redirect, not a client's request, and
    OAuth clients ignore parameters they do not use (OIDC's `session_state`, …).
    """

    ignores_unknown_keys = True

    code = serializers.CharField(required=False, help_text="The authorization code.")
    state = serializers.CharField(
        required=False, help_text="The signed state ThetaVue sent; required with `code`."
    )
    error = serializers.CharField(
        required=False, help_text="Set when the trader declined or the broker refused."
    )
    error_description = serializers.CharField(required=False, allow_blank=True)
    error_uri = serializers.CharField(required=False, allow_blank=True)
    iss = serializers.CharField(required=False, help_text="The issuer, when the broker sends it.")
    scope = serializers.CharField(
        required=False, allow_blank=True, help_text="The scopes granted (space-separated)."
    )

    def validate(self, attrs):
        if attrs.get("error"):
            return attrs
        missing = {
            name: ["This field is required."] for name in ("code", "state") if not attrs.get(name)
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class SyncInput(StrictInputSerializer):
    connection_id = serializers.IntegerField(
        required=False, help_text="One connection; omit for all of yours."
    )


class SyncQueuedOutput(serializers.Serializer):
    runs = SyncRunOutput(many=True)
