"""Account pages: personal API tokens, export, erase, notifications; the privacy page.

Thin adapters over the users app's services (tokens, privacy, notifications).
A new token's value is rendered once, in the response to the POST that made
it, with `Cache-Control: no-store`; it is never put in a message, the session
or a redirect.
"""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from thetavue_site.users import privacy, selectors, services, tokens
from thetavue_site.users.consents import PRIVACY_TEXT_VERSION
from thetavue_site.users.models import ApiToken, Consent
from thetavue_site.users.notifications import notification_mark_all_read, notification_mark_read

NOTIFICATIONS_SHOWN = 100


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Token name", help_text="e.g. “spreadsheet”.")
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        label="Access",
        help_text="Read only: every GET, and what-if scenarios (they change nothing). "
        "Read and write: everything an API client can do.",
    )


class EraseForm(forms.Form):
    confirm = forms.CharField(label="Type your email to confirm", max_length=254)


def _consents(user) -> list[dict]:
    return list(
        Consent.objects.filter(user=user)
        .order_by("-created_at")
        .values("purpose", "text_version", "created_at")[:20]
    )


def _account_page(request, *, token_form=None, erase_form=None, new_token=None, status=200):
    response = render(
        request,
        "users/account.html",
        {
            "tokens": list(selectors.api_token_list_for_user(user=request.user)),
            "token_form": token_form or ApiTokenForm(),
            "erase_form": erase_form or EraseForm(),
            "new_token": new_token,
            "consents": _consents(request.user),
            "time_zones": sorted(services.available_time_zones()),
            "now": timezone.now(),
            "nav": "account",
        },
        status=status,
    )
    if new_token is not None:
        add_never_cache_headers(response)
    return response


@require_GET
@login_required
def account(request):
    return _account_page(request)


@require_POST
@login_required
def token_create(request):
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _account_page(request, token_form=form)
    token, raw = tokens.api_token_create(
        user=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
    )
    return _account_page(request, new_token={"token": token, "raw": raw})


@require_POST
@login_required
def token_revoke(request, pk: int):
    token = get_object_or_404(selectors.api_token_list_for_user(user=request.user), pk=pk)
    tokens.api_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked: it is refused from now on.")
    return redirect("users:account")


@require_POST
@login_required
def time_zone_set(request):
    """Store the trader's time zone: the browser's first report, or the account form.

    The browser's report (``only_if_unset``) answers 204 and never overrides a
    chosen zone; the form redirects back to the account page with a message.
    """
    name = (request.POST.get("time_zone") or "").strip()
    first_report = request.POST.get("only_if_unset") == "1"
    try:
        services.user_set_time_zone(user=request.user, time_zone=name, only_if_unset=first_report)
    except ValidationError as error:
        if first_report:
            return HttpResponse(status=400)
        messages.error(request, error.message_dict["time_zone"][0])
        return redirect("users:account")
    if first_report:
        return HttpResponse(status=204)
    messages.success(request, f"Times are now shown in {name}.")
    return redirect("users:account")


@require_GET
@login_required
def export(request):
    """Download everything held about the user as one JSON document."""
    document = privacy.user_export(user=request.user)
    response = HttpResponse(
        json.dumps(document, cls=DjangoJSONEncoder, indent=2),
        content_type="application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="{privacy.export_filename()}"'
    add_never_cache_headers(response)
    return response


@require_POST
@login_required
def erase(request):
    form = EraseForm(request.POST)
    if form.is_valid():
        try:
            privacy.user_erase_confirmed(user=request.user, confirm=form.cleaned_data["confirm"])
        except ValidationError as error:
            for reason in error.message_dict.get("confirm", []):
                form.add_error("confirm", reason)
        else:
            logout(request)
            messages.success(request, "Your account and everything it held have been erased.")
            return redirect("account_login")
    return _account_page(request, erase_form=form)


@require_GET
@login_required
def notifications(request):
    items = list(selectors.notification_list_for_user(user=request.user)[:NOTIFICATIONS_SHOWN])
    return render(
        request,
        "users/notifications.html",
        {
            "notifications": items,
            "unread": sum(1 for item in items if item.read_at is None),
            "nav": "notifications",
        },
    )


@require_POST
@login_required
def notification_read(request, pk: int):
    notification = get_object_or_404(selectors.notification_list_for_user(user=request.user), pk=pk)
    notification_mark_read(notification=notification)
    return redirect("users:notifications")


@require_POST
@login_required
def notifications_read_all(request):
    marked = notification_mark_all_read(user=request.user)
    messages.info(request, f"{marked} notification{'s' if marked != 1 else ''} marked read.")
    return redirect("users:notifications")


@require_http_methods(["GET"])
def privacy_page(request):
    """What ThetaVue stores and why; public, so it can be read before signing up."""
    return render(
        request,
        "users/privacy.html",
        {
            "privacy_version": PRIVACY_TEXT_VERSION,
            "sync_run_retention_days": settings.SYNC_RUN_RETENTION_DAYS,
            "notification_retention_days": settings.NOTIFICATION_RETENTION_DAYS,
            "consents": _consents(request.user) if request.user.is_authenticated else [],
            "nav": "privacy",
        },
    )
