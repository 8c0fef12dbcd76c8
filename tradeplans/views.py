"""Trade plan dashboards: the list with each plan's compliance, the editor, delete.

The editor's forms check shapes; the plan service checks the rules and names
each bad field (`name`, `strategies[1].delta_range_max`, `strategies`), and
its messages are put next to the field they name. Compliance is measured on
the live book in a fixed number of queries (tradeplans.selectors).
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from portfolios.selectors import portfolio_list_for_user
from portfolios.strategy_types import StrategyType
from tradeplans import selectors, services
from tradeplans.forms import PLAN_FIELDS, STRATEGY_FIELDS, StrategyRuleFormSet, TradePlanForm
from tradeplans.models import TradePlan

SEVERITY_ORDER = {"breach": 0, "warn": 1, "ok": 2}
STRATEGY_ERROR_KEY = re.compile(r"^strategies\[(\d+)\]\.(\w+)$")
FORMSET_PREFIX = "strategies"


def _portfolio_choices(user) -> list[dict]:
    return list(portfolio_list_for_user(user=user).order_by("name", "id").values("id", "name"))


@login_required
def plan_list(request):
    """Every plan with its overall compliance, measured on one load of the book."""
    now = timezone.now()
    plans = list(selectors.trade_plan_list_for_user(user_id=request.user.pk))
    portfolios = {p["id"]: p["name"] for p in _portfolio_choices(request.user)}
    books = selectors.portfolio_books(user_id=request.user.pk, portfolio_ids=None, now=now)
    rows = []
    for plan in plans:
        report = selectors.compliance_report(
            plan=plan,
            book=selectors.live_book(books=books, portfolio_id=plan.portfolio_id),
            now=now,
        )
        counts = {"ok": 0, "warn": 0, "breach": 0}
        for check in report.checks:
            counts[check.status.value] += 1
        rows.append(
            {
                "plan": plan,
                "scope": portfolios.get(plan.portfolio_id, "All portfolios"),
                "report": report,
                "counts": counts,
                "strategies": list(plan.strategies.all()),
            }
        )
    return render(request, "tradeplans/list.html", {"rows": rows, "nav": "plans"})


def checks_for_display(report) -> list[dict]:
    """The report's checks, breaches first, each with a readable subject.

    A subject that is a strategy type reads as its label; a strategy group's
    id is opaque to a trader (the message already names the group).
    """
    checks = sorted(report.checks, key=lambda check: SEVERITY_ORDER[check.status.value])
    return [
        {
            "status": check.status.value,
            "rule": check.rule,
            "subject": StrategyType(check.subject).label
            if check.subject in StrategyType._value2member_map_
            else "",
            "message": check.message,
        }
        for check in checks
    ]


def _initial(plan: TradePlan) -> tuple[dict, list[dict]]:
    fields = {
        "name": plan.name,
        "portfolio": plan.portfolio_id,
        "monthly_income_target": plan.monthly_income_target,
        "risk_per_trade": plan.risk_per_trade,
        "max_overnight_exposure": plan.max_overnight_exposure,
        "is_active": plan.is_active,
    }
    rules = [
        {name: getattr(rule, name) for name in STRATEGY_FIELDS} for rule in plan.strategies.all()
    ]
    return fields, rules


def _put_errors(error: ValidationError, form, formset, kept: list[int]) -> list[str]:
    """Put the service's errors next to the fields they name; return the rest.

    `kept` maps the index of a strategy sent to the service back to its form
    (deleted and blank forms were not sent). What names no field (the
    allocation total, "strategies") is returned for the strategies table.
    """
    rest: list[str] = []
    for key, reasons in error.message_dict.items():
        match = STRATEGY_ERROR_KEY.match(key)
        if match and int(match.group(1)) < len(kept):
            target = formset.forms[kept[int(match.group(1))]]
            field = match.group(2) if match.group(2) in target.fields else None
            for reason in reasons:
                target.add_error(field, reason)
        elif key in form.fields:
            for reason in reasons:
                form.add_error(key, reason)
        else:
            rest.extend(reasons)
    return rest


def _editor(request, plan: TradePlan | None):
    portfolios = _portfolio_choices(request.user)
    strategy_errors: list[str] = []
    if request.method == "POST":
        form = TradePlanForm(request.POST, portfolios=portfolios)
        formset = StrategyRuleFormSet(request.POST, prefix=FORMSET_PREFIX)
        if form.is_valid() and formset.is_valid():
            fields = {name: form.cleaned_data[name] for name in PLAN_FIELDS}
            kept, strategies = [], []
            for index, rule_form in enumerate(formset.forms):
                data = rule_form.cleaned_data
                if not data or data.get("DELETE"):
                    continue  # a blank extra row, or one marked for removal
                kept.append(index)
                strategies.append({name: data.get(name) for name in STRATEGY_FIELDS})
            try:
                if plan is None:
                    plan = services.trade_plan_create(
                        user_id=request.user.pk, fields=fields, strategies=strategies
                    )
                    messages.success(request, f"Plan “{plan.name}” created.")
                else:
                    plan = services.trade_plan_replace(
                        plan=plan, fields=fields, strategies=strategies
                    )
                    messages.success(request, f"Plan “{plan.name}” saved.")
            except ValidationError as error:
                strategy_errors = _put_errors(error, form, formset, kept)
            else:
                return redirect("tradeplans:edit", pk=plan.pk)
    elif plan is None:
        form = TradePlanForm(portfolios=portfolios)
        formset = StrategyRuleFormSet(prefix=FORMSET_PREFIX)
    else:
        fields, rules = _initial(plan)
        form = TradePlanForm(initial=fields, portfolios=portfolios)
        formset = StrategyRuleFormSet(initial=rules, prefix=FORMSET_PREFIX)

    report = checks = None
    if plan is not None and plan.pk:
        report = selectors.trade_plan_compliance(plan=plan, now=timezone.now())
        checks = checks_for_display(report)
    return render(
        request,
        "tradeplans/edit.html",
        {
            "plan": plan,
            "form": form,
            "formset": formset,
            "strategy_errors": strategy_errors,
            "report": report,
            "checks": checks,
            "nav": "plans",
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def plan_create(request):
    return _editor(request, None)


@require_http_methods(["GET", "POST"])
@login_required
def plan_edit(request, pk: int):
    plan = selectors.trade_plan_get_for_user(user_id=request.user.pk, plan_id=pk)
    return _editor(request, plan)


@require_POST
@login_required
def plan_delete(request, pk: int):
    plan = selectors.trade_plan_get_for_user(user_id=request.user.pk, plan_id=pk)
    name = plan.name
    services.trade_plan_delete(plan=plan)
    messages.success(request, f"Plan “{name}” deleted.")
    return redirect("tradeplans:list")
