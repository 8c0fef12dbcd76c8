"""Tastytrade connection API: connect, OAuth callback, connections, sync, status.

Connections are a resource on thetavue_site.api's OwnerScopedViewSet; the
commands (connect, callback, sync) and the status on its StrictApiView. Query
strings and bodies are read through strict serializers (an unknown key is a
400 naming it), and every error is raised for the one exception handler.
"""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from brokers import callback_messages
from brokers.api import serializers as s
from brokers.connections import (
    authorize_url_for,
    connection_create_from_code,
    connection_disconnect,
)
from brokers.models import BrokerConnection
from brokers.oauth_state import InvalidState
from brokers.selectors import latest_runs
from brokers.sync_queue import SyncTooSoon, sync_request_manual
from brokers.tastytrade.client import BrokerError
from thetavue_site.api.errors import Refused, TooManyRequests, Unavailable
from thetavue_site.api.views import StrictApiView
from thetavue_site.api.viewsets import OwnerScopedViewSet
from thetavue_site.users.idempotency import IdempotentMixin

logger = logging.getLogger(__name__)

CONNECTIONS_PAGE = "/connections/"


def connections_for(user):
    return BrokerConnection.objects.filter(user=user).order_by("pk")


def next_sync_at(now: dt.datetime) -> dt.datetime:
    """The next beat tick: the next multiple of the interval past the hour."""
    interval = settings.SYNC_INTERVAL_MINUTES
    base = now.replace(second=0, microsecond=0)
    minutes_past = base.minute % interval if 60 % interval == 0 else 0
    return base + dt.timedelta(minutes=interval - minutes_past)


class ConnectApi(IdempotentMixin, StrictApiView):
    idempotency_sensitive = True  # the signed OAuth state is single-use

    @extend_schema(
        request=None, responses={200: s.AuthorizeOutput}, summary="Start the OAuth connection"
    )
    def post(self, request):
        self.body_input(s.NoBody)
        try:
            url = authorize_url_for(user_id=request.user.pk)
        except InvalidState as error:
            raise Unavailable(f"Cannot start a connection: {error}.") from None
        return Response({"authorize_url": url})


class CallbackApi(StrictApiView):
    """The browser lands here from Tastytrade's consent page; it goes on to the connections page."""

    query_serializer_class = s.CallbackQuery

    @extend_schema(
        parameters=[s.CallbackQuery],
        responses={302: OpenApiResponse(description="Redirect to the connections page")},
        summary="OAuth callback",
    )
    def get(self, request):
        def back(**params):
            return redirect(f"{CONNECTIONS_PAGE}?{urlencode(params)}")

        if self.query.get("error"):
            return back(error=callback_messages.DECLINED)
        try:
            connection, run = connection_create_from_code(
                user=request.user, code=self.query["code"], state=self.query["state"]
            )
        except InvalidState as error:
            if "text/html" in request.headers.get("Accept", ""):
                # A browser coming back from the consent page: say it in the page.
                return back(error=callback_messages.INVALID_STATE)
            raise Refused(
                f"The connection was refused: {error}.",
                code="invalid_state",
                fields={"state": [str(error)]},
            ) from None
        except BrokerError as error:
            logger.warning("oauth code exchange failed: %s", type(error).__name__)
            return back(error=callback_messages.BROKER_REFUSED)
        return back(connected=connection.pk, run=run.pk)

    def handle_exception(self, exc):
        # A browser back from the consent page reads the answer on the
        # connections page, never as a JSON error body.
        if isinstance(exc, ValidationError) and "text/html" in self.request.headers.get(
            "Accept", ""
        ):
            query = urlencode({"error": callback_messages.INVALID_REQUEST})
            return redirect(f"{CONNECTIONS_PAGE}?{query}")
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # The URL carries the OAuth code and state: no Referer may pass them on,
        # not even to the connections page this redirects to.
        response["Referrer-Policy"] = "no-referrer"
        return response


class ConnectionViewSet(OwnerScopedViewSet):
    """The trader's broker connections: list, one, disconnect."""

    queryset = BrokerConnection.objects.none()
    serializer_class = s.ConnectionOutput
    # One array, not pages: a trader holds a connection per broker login, a
    # handful at most, and the list's shape is the API's contract.
    pagination_class = None

    def owner_scope(self):
        return connections_for(self.request.user)

    @extend_schema(
        responses={200: s.ConnectionOutput(many=True)}, summary="Your broker connections"
    )
    def list(self, request):
        connections = self.get_queryset().prefetch_related("portfolios")
        return Response(s.ConnectionOutput(connections, many=True).data)

    @extend_schema(responses={200: s.ConnectionOutput}, summary="One broker connection")
    def retrieve(self, request, pk=None):
        return Response(s.ConnectionOutput(self.object).data)

    @extend_schema(
        request=None, responses={204: None}, summary="Disconnect (tokens deleted; synced data kept)"
    )
    def destroy(self, request, pk=None):
        self.body_input(s.NoBody)
        connection_disconnect(connection=self.object)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SyncApi(IdempotentMixin, StrictApiView):
    @extend_schema(
        request=s.SyncInput,
        responses={202: s.SyncQueuedOutput},
        summary="Sync now (at most once a minute per connection)",
    )
    def post(self, request):
        payload = self.body_input(s.SyncInput)
        connections = connections_for(request.user).exclude(status=BrokerConnection.Status.DISABLED)
        if "connection_id" in payload:
            connections = [get_object_or_404(connections, pk=payload["connection_id"])]
        runs = []
        for connection in connections:
            try:
                runs.append(sync_request_manual(connection=connection))
            except SyncTooSoon as error:
                # Runs queued before this one stay queued: each is a sync the
                # trader asked for, and the cooldown is per connection.
                raise TooManyRequests(
                    f"Connection {connection.pk}: {error}; retry in {error.retry_after} s.",
                    retry_after=error.retry_after,
                ) from None
        return Response(s.SyncQueuedOutput({"runs": runs}).data, status=status.HTTP_202_ACCEPTED)


class StatusApi(StrictApiView):
    @extend_schema(responses={200: s.StatusOutput}, summary="Sync status of every connection")
    def get(self, request):
        now = timezone.now()
        connections = list(connections_for(request.user))
        last_runs = latest_runs(connection_ids=[c.pk for c in connections])
        body = {
            "connections": [
                {
                    "id": c.pk,
                    "status": c.status,
                    "last_synced_at": c.last_synced_at,
                    "next_sync_at": None
                    if c.status == BrokerConnection.Status.DISABLED
                    else next_sync_at(now),
                    "last_error": c.last_error,
                    "consecutive_failures": c.consecutive_failures,
                    "last_run": last_runs.get(c.pk),
                }
                for c in connections
            ]
        }
        return Response(s.StatusOutput(body).data)
