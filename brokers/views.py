"""Connections dashboard: connect Tastytrade, sync now, live sync status, disconnect.

The OAuth callback (brokers.api.views.CallbackApi) lands on the connections
page with `?connected=<id>&run=<id>` or `?error=<plain words>`. Live status is
an htmx partial that polls every 2 s while a run is queued or running and
stops by rendering itself without the trigger once the run has finished.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from brokers.callback_messages import callback_error_message
from brokers.connections import BROKER_CONSENT_PURPOSE, authorize_url_for, connection_disconnect
from brokers.models import BrokerConnection
from brokers.selectors import latest_runs, sync_state
from brokers.sync_queue import SyncTooSoon, sync_request_manual
from thetavue_site.users.consents import PRIVACY_TEXT_VERSION, consent_latest

SYNC_FINISHED_EVENT = "tv-sync-finished"


class ConnectForm(forms.Form):
    consent = forms.BooleanField(
        required=True,
        label="I agree that ThetaVue stores my Tastytrade data as the privacy summary says.",
        error_messages={"required": "Tick the box to agree to the privacy summary first."},
    )


# Reads ---------------------------------------------------------------------------


def connections_for(*, user):
    """Return the user's broker connections (the scope every connection read starts from)."""
    return BrokerConnection.objects.filter(user=user).order_by("pk")


def _environment_label(environment: str) -> str:
    host = urlsplit(environment).hostname or environment
    if host in ("127.0.0.1", "localhost", "::1"):
        return f"Local sandbox ({urlsplit(environment).netloc})"
    if "cert" in host:
        return f"Certification ({host})"
    return host


# Pages ---------------------------------------------------------------------------


@require_GET
@login_required
def connections_page(request):
    connections = list(connections_for(user=request.user).prefetch_related("portfolios"))
    runs = latest_runs(connection_ids=[c.pk for c in connections])
    rows = [
        {
            "connection": connection,
            "environment": _environment_label(connection.environment),
            "portfolios": list(connection.portfolios.all()),
            "sync": sync_state(connection=connection, run=runs.get(connection.pk)),
        }
        for connection in connections
    ]
    callback_error = callback_error_message(request.GET.get("error", ""))
    connected_id = request.GET.get("connected", "")
    response = render(
        request,
        "brokers/connections.html",
        {
            "rows": rows,
            "form": ConnectForm(),
            "privacy_version": PRIVACY_TEXT_VERSION,
            "consent": consent_latest(user=request.user, purpose=BROKER_CONSENT_PURPOSE),
            "callback_error": callback_error,
            "connected_id": connected_id if connected_id.isdigit() else "",
            "authorize_host": urlsplit(settings.TASTYTRADE_AUTHORIZE_URL).netloc,
            "nav": "connections",
        },
    )
    # The connect form's POST is answered by a redirect to the broker's consent
    # page, and CSP form-action covers redirect targets: allow that one origin
    # on this page only (django-csp merges it into the policy).
    authorize = urlsplit(settings.TASTYTRADE_AUTHORIZE_URL)
    response._csp_update = {"form-action": [f"{authorize.scheme}://{authorize.netloc}"]}
    return response


@require_POST
@login_required
def connect(request):
    """Check the consent box, then send the browser to the broker's consent page."""
    form = ConnectForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("consent", []):
            messages.error(request, error)
        return redirect("brokers:connections")
    return redirect(authorize_url_for(user_id=request.user.pk))


@require_POST
@login_required
def disconnect(request, pk: int):
    connection = get_object_or_404(connections_for(user=request.user), pk=pk)
    connection_disconnect(connection=connection)
    messages.success(
        request,
        "Disconnected: ThetaVue deleted its Tastytrade tokens and stopped syncing. Your synced "
        "portfolios stay until you delete them. To remove the grant at Tastytrade too, revoke "
        "ThetaVue under your Tastytrade account's connected applications.",
    )
    return redirect("brokers:connections")


@require_POST
@login_required
def sync_now(request, pk: int):
    """Queue a manual sync; htmx gets the live status partial, a plain form a redirect."""
    connection = get_object_or_404(connections_for(user=request.user), pk=pk)
    notice = ""
    try:
        run = sync_request_manual(connection=connection)
    except SyncTooSoon as too_soon:
        notice = f"A sync ran less than a minute ago; try again in {too_soon.retry_after} s."
        run = latest_runs(connection_ids=[connection.pk]).get(connection.pk)
    if request.htmx:
        state = sync_state(
            connection=connection,
            run=run,
            notice=notice,
            compact=request.POST.get("compact") == "1",
        )
        return render(request, "brokers/_sync_status.html", {"sync": state})
    if notice:
        messages.warning(request, notice)
    else:
        messages.info(request, "Sync queued.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("brokers:connections")
    return redirect(back)


@require_GET
@login_required
def sync_status(request, pk: int):
    """The live status partial; tells the page when a run it was watching has finished."""
    connection = get_object_or_404(connections_for(user=request.user), pk=pk)
    run = latest_runs(connection_ids=[connection.pk]).get(connection.pk)
    context = sync_state(connection=connection, run=run, compact=request.GET.get("compact") == "1")
    response: HttpResponse = render(request, "brokers/_sync_status.html", {"sync": context})
    if request.GET.get("watching") and not context["active"]:
        # The page swaps its figures in when it hears this (hx-trigger "from:body").
        response["HX-Trigger"] = SYNC_FINISHED_EVENT
    return response
