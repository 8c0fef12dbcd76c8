"""Manual books in HTML: create, edit and delete a manual portfolio and its legs.

The pages validate exactly as the API does: the posted values go through
the API's input serializers (shape) and then the same services (rules), and
every message lands next to the field it names, as on the plan form (a
page with errors answers 200, as the plan form does). Another
trader's portfolio is a 404; a synced portfolio's legs cannot be edited here.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portfolios import selectors, services
from portfolios.api.portfolio_serializers import PortfolioCreateInput, PortfolioUpdateInput
from portfolios.api.serializers import PositionCreateInput, PositionUpdateInput
from portfolios.models import Portfolio, Position


class ManualPortfolioForm(forms.Form):
    """What the page shows; the API's serializer and the service do the checking."""

    name = forms.CharField(label="Name", max_length=120, required=False)
    net_liquidation_value = forms.CharField(
        label="Net liquidation value, $", required=False, help_text="Optional."
    )
    cash_balance = forms.CharField(label="Cash, $", required=False, help_text="Optional.")
    buying_power = forms.CharField(
        label="Buying power available, $", required=False, help_text="Optional."
    )


class ManualPositionForm(forms.Form):
    symbol = forms.CharField(
        label="Symbol",
        required=False,
        help_text="OCC option symbol (AAPL  260116P00172500), a ticker (SPY) or a future (/ESZ6).",
    )
    quantity = forms.CharField(label="Quantity", required=False, help_text="Signed: short < 0.")
    average_open_price = forms.CharField(
        label="Average open price, $", required=False, help_text="Per share or unit."
    )
    mark = forms.CharField(label="Mark, $", required=False, help_text="Per share or unit.")
    underlying_price = forms.CharField(label="Underlying price, $", required=False)
    open_date = forms.CharField(
        label="Open date", required=False, help_text="YYYY-MM-DD.", widget=forms.DateInput
    )


def _posted(form: forms.Form, keys) -> dict:
    """The non-blank posted values the serializer should see."""
    data = {}
    for key in keys:
        value = (form.data.get(key) or "").strip()
        if value:
            data[key] = value
    return data


def _put_errors(form: forms.Form, errors) -> None:
    """Place serializer or service errors next to their fields (others on the form)."""
    form.is_valid()  # builds cleaned_data, which add_error needs
    detail = errors.message_dict if isinstance(errors, ValidationError) else errors
    for field, reasons in detail.items():
        reasons = reasons if isinstance(reasons, list) else [reasons]
        target = field if field in form.fields else None
        for reason in reasons:
            text = str(reason) if target else f"{field}: {reason}"
            form.add_error(target, text)


def _manual_for(request, pk: int) -> Portfolio:
    portfolio = get_object_or_404(selectors.portfolio_list_for_user(user=request.user), pk=pk)
    return portfolio


@require_http_methods(["GET", "POST"])
@login_required
def manual_portfolio_create(request):
    form = ManualPortfolioForm(request.POST or None)
    if request.method == "POST":
        data = PortfolioCreateInput(data=_posted(form, form.fields))
        if not data.is_valid():
            _put_errors(form, data.errors)
        else:
            try:
                portfolio = services.portfolio_create(user=request.user, **data.validated_data)
            except ValidationError as error:
                _put_errors(form, error)
            else:
                messages.success(request, f"Manual portfolio “{portfolio.name}” created.")
                return redirect("portfolios:detail", portfolio.pk)
    return render(
        request,
        "portfolios/manual_form.html",
        {"form": form, "title": "New manual portfolio", "nav": "overview"},
    )


@require_http_methods(["GET", "POST"])
@login_required
def manual_portfolio_edit(request, pk: int):
    portfolio = _manual_for(request, pk)
    if not portfolio.is_manual:
        messages.error(request, "A synced portfolio's figures come from the broker.")
        return redirect("portfolios:detail", portfolio.pk)
    initial = {name: getattr(portfolio, name) for name in ManualPortfolioForm.base_fields}
    form = ManualPortfolioForm(request.POST or None, initial=initial)
    if request.method == "POST":
        data = PortfolioUpdateInput(data=_posted(form, form.fields))
        if not data.is_valid():
            _put_errors(form, data.errors)
        else:
            # A blank figure clears it, as null does in the API.
            values = {name: data.validated_data.get(name) for name in form.fields}
            try:
                services.portfolio_update(portfolio=portfolio, data=values)
            except ValidationError as error:
                _put_errors(form, error)
            else:
                messages.success(request, "Portfolio saved.")
                return redirect("portfolios:detail", portfolio.pk)
    return render(
        request,
        "portfolios/manual_form.html",
        {
            "form": form,
            "title": f"Edit {portfolio.name}",
            "portfolio": portfolio,
            "editing_portfolio": True,
            "nav": "overview",
        },
    )


@require_POST
@login_required
def manual_portfolio_delete(request, pk: int):
    portfolio = _manual_for(request, pk)
    if not portfolio.is_manual:
        messages.error(request, "Delete a synced portfolio through the API with confirm=true.")
        return redirect("portfolios:detail", portfolio.pk)
    name = portfolio.name
    services.portfolio_delete(portfolio=portfolio)
    messages.success(request, f"Portfolio “{name}” deleted.")
    return redirect("portfolios:overview")


@require_http_methods(["GET", "POST"])
@login_required
def manual_position_form(request, pk: int, position_id: int | None = None):
    portfolio = _manual_for(request, pk)
    if not portfolio.is_manual:
        messages.error(request, "A synced portfolio's legs come from the broker.")
        return redirect("portfolios:detail", portfolio.pk)
    position = None
    if position_id is not None:
        position = get_object_or_404(Position.objects.filter(portfolio=portfolio), pk=position_id)
    initial = {}
    if position is not None:
        initial = {name: getattr(position, name) for name in ManualPositionForm.base_fields}
    form = ManualPositionForm(request.POST or None, initial=initial)
    if position is not None:
        form.fields["symbol"].disabled = True
    if request.method == "POST":
        keys = [k for k in form.fields if position is None or k != "symbol"]
        serializer_class = PositionCreateInput if position is None else PositionUpdateInput
        data = serializer_class(data=_posted(form, keys), partial=position is not None)
        if not data.is_valid():
            _put_errors(form, data.errors)
        else:
            try:
                if position is None:
                    services.position_create(portfolio=portfolio, data=data.validated_data)
                else:
                    services.position_update(position=position, data=data.validated_data)
            except ValidationError as error:
                _put_errors(form, error)
            else:
                messages.success(request, "Position saved.")
                return redirect("portfolios:detail", portfolio.pk)
    title = "Add a position" if position is None else f"Edit {position.symbol}"
    return render(
        request,
        "portfolios/manual_form.html",
        {
            "form": form,
            "title": title,
            "portfolio": portfolio,
            "position": position,
            "nav": "overview",
        },
    )


@require_POST
@login_required
def manual_position_delete(request, pk: int, position_id: int):
    portfolio = _manual_for(request, pk)
    position = get_object_or_404(
        Position.objects.filter(portfolio=portfolio, portfolio__account_type="manual"),
        pk=position_id,
    )
    services.position_delete(position=position)
    messages.success(request, f"{position.symbol} removed.")
    return redirect("portfolios:detail", portfolio.pk)
