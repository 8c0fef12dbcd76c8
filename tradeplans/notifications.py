"""Tell traders when their book breaks a plan: once per breach, not after every sync.

After a successful sync the broker sync calls ``plans_notify_breaches``. Each
active plan of the user is measured against the live book; a breach is keyed
by (plan, rule, subject) and kept in ``trade_plan_breaches`` while it lasts:

- a breach not open before opens a row and raises one notification;
- a breach still open only refreshes its row (no notification);
- a breach that cleared loses its row, so if it comes back it is new again.

The notification's dedupe key is the same (plan, rule, subject), so a breach
that clears and returns while its first notification is still unread does
not stack a second one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from thetavue_site import rls
from thetavue_site.users.notifications import notification_create
from tradeplans import compliance, selectors
from tradeplans.compliance import CheckStatus, ComplianceCheck
from tradeplans.models import TradePlan, TradePlanBreach

NOTIFICATION_KIND = "plan_breach"
NOTIFICATION_LEVEL = "warning"
RULE_TITLES = {
    compliance.RULE_INCOME: "income target",
    compliance.RULE_EXPOSURE: "overnight exposure",
    compliance.RULE_RISK: "risk per trade",
    compliance.RULE_ALLOCATION: "allocation",
    compliance.RULE_MAX_POSITIONS: "max positions",
    compliance.RULE_DELTA: "delta range",
    compliance.RULE_CREDIT: "target credit",
}


@dataclass(frozen=True, slots=True)
class NewBreach:
    """A breach that opened in this run: which plan, rule and subject, and why."""

    plan_id: int
    rule: str
    subject: str
    message: str


def breach_dedupe_key(*, plan_id: int, rule: str, subject: str) -> str:
    """Return the notification dedupe key of one breach: plan + rule + subject."""
    return f"plan_breach:{plan_id}:{rule}:{subject}"


def plans_notify_breaches(*, user_id: str, now: dt.datetime | None = None) -> list[NewBreach]:
    """Measure the user's active plans; notify each breach that opened since the last run.

    Runs in its own transaction as ``user_id`` (nesting inside the caller's
    is fine). Returns the breaches that opened, each notified once.
    """
    now = now or timezone.now()
    opened: list[NewBreach] = []
    with rls.as_user(user_id):
        # Lock the user's plans in pk order: two syncs of one trader finishing
        # together queue here instead of both opening (and notifying) a breach.
        plans = list(
            TradePlan.objects.select_for_update()
            .filter(user_id=user_id)
            .order_by("pk")
            .prefetch_related("strategies")
        )
        active = [plan for plan in plans if plan.is_active]
        # A paused plan forgets its breaches; resumed, it reports them afresh.
        TradePlanBreach.objects.filter(
            trade_plan_id__in=[plan.pk for plan in plans if not plan.is_active]
        ).delete()
        if not active:
            return opened

        open_rows = {
            (row.trade_plan_id, row.rule, row.subject): row
            for row in TradePlanBreach.objects.filter(trade_plan__in=active)
        }
        books = selectors.portfolio_books(user_id=user_id, portfolio_ids=None, now=now)
        seen: dict[tuple[int, str, str], ComplianceCheck] = {}
        for plan in active:
            book = selectors.live_book(books=books, portfolio_id=plan.portfolio_id)
            report = selectors.compliance_report(plan=plan, book=book, now=now)
            for check in report.checks:
                if check.status == CheckStatus.BREACH:
                    seen[(plan.pk, check.rule, check.subject or "")] = check

        cleared = [row.pk for key, row in open_rows.items() if key not in seen]
        TradePlanBreach.objects.filter(pk__in=cleared).delete()
        still_open = []
        for key, check in seen.items():
            row = open_rows.get(key)
            if row is not None:
                row.message, row.last_seen_at, row.updated_at = check.message, now, now
                still_open.append(row)
        TradePlanBreach.objects.bulk_update(still_open, ["message", "last_seen_at", "updated_at"])

        names = {plan.pk: plan.name for plan in active}
        new_rows = []
        for (plan_id, rule, subject), check in seen.items():
            if (plan_id, rule, subject) in open_rows:
                continue
            new_rows.append(
                TradePlanBreach(
                    trade_plan_id=plan_id,
                    rule=rule,
                    subject=subject,
                    message=check.message,
                    opened_at=now,
                    last_seen_at=now,
                )
            )
            opened.append(NewBreach(plan_id, rule, subject, check.message))
        TradePlanBreach.objects.bulk_create(new_rows)
        # Inside the transaction: a failed notification rolls the new rows back,
        # so the next sync tries again instead of losing the breach.
        for breach in opened:
            _notify(user_id=user_id, plan_name=names[breach.plan_id], breach=breach)
    return opened


def _notify(*, user_id: str, plan_name: str, breach: NewBreach) -> None:
    notification_create(
        user_id=user_id,
        kind=NOTIFICATION_KIND,
        level=NOTIFICATION_LEVEL,
        title=f"Trade plan “{plan_name}”: {RULE_TITLES.get(breach.rule, breach.rule)} breached",
        body=breach.message,
        dedupe_key=breach_dedupe_key(
            plan_id=breach.plan_id, rule=breach.rule, subject=breach.subject
        ),
        link=reverse("tradeplans:edit", args=[breach.plan_id]),
    )
