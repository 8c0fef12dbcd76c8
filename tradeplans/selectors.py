"""Reads about trade plans, and the live book their compliance is judged on.

The book comes from the database in a fixed number of queries whatever the
number of legs (the scope's portfolios, their legs, this New York month's
transactions), then is digested in memory:

- groups: each portfolio's book from ``portfolios.book`` (the adapter every
  surface reads), so a leg split between two groups is judged in both and
  the group ids are the strategies endpoint's. Options past their expiry that
  the broker still lists carry no risk: the book groups them apart and flags
  those groups expired, and no rule counts them (risk per trade, delta,
  credit, allocation, max positions), nor their delta in the exposure;
- each group's max loss and undefined risk from detection; its buying-power
  effect is the book's reduction by Tastytrade's rules (requirement −
  premium received at open; None when the rules do not cover the shape or a
  price is missing), the figure the metrics endpoint sums;
- short legs' per-contract delta = stored position delta / (|quantity| ×
  multiplier): the trader's position view, as Tastytrade shows it (a short
  call's is negative, a short put's positive);
- |BWD| in $ from ``metrics.exposure`` over the stored position deltas, betas
  and underlying prices (the same greeks the sync stored and the dashboards
  show, not a re-pricing at read time);
- the book's buying power: Σ net liquidation value of the scope's portfolios,
  the base allocations are shares of (a tastytrade trader's "BP usage");
- income month to date from the transactions table via ``portfolios.income``.

Money in $ as Decimal; credit > 0; ``max_loss`` > 0 is a loss.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import Http404

from metrics.exposure import portfolio_exposure
from metrics.selectors import stored_pricing
from portfolios.book import Book, BookGroup, book_rows, digest
from portfolios.income import MonthPace, TransactionView, income_month_to_date, month_pace
from portfolios.instruments import OPTION_INSTRUMENTS
from portfolios.models import Portfolio, Transaction
from portfolios.strategies import FLAG_PREMIUM_UNKNOWN
from portfolios.strategy_types import StrategyType
from tradeplans.compliance import (
    BookFacts,
    CheckStatus,
    ComplianceCheck,
    GroupFacts,
    PlanSpec,
    StrategyRule,
    evaluate_plan,
    group_facts,
    overall_status,
)
from tradeplans.models import TradePlan, TradePlanBreach

CENT = Decimal("0.01")
TRANSACTION_COLUMNS = (
    "portfolio_id",
    "transaction_type",
    "transaction_sub_type",
    "action",
    "instrument_type",
    "net_value",
    "executed_at",
    "transaction_date",
)


# Plans -------------------------------------------------------------------------


def trade_plan_list_for_user(*, user_id: str) -> QuerySet[TradePlan]:
    """Return the user's plans with their strategies (the scope every plan read starts from)."""
    return TradePlan.objects.filter(user_id=user_id).prefetch_related("strategies")


def trade_plan_get_for_user(*, user_id: str, plan_id: int) -> TradePlan:
    """Return one of the user's plans; another user's (or none) is Http404."""
    plan = trade_plan_list_for_user(user_id=user_id).filter(pk=plan_id).first()
    if plan is None:
        raise Http404("No such trade plan.")
    return plan


def plan_spec(*, plan: TradePlan) -> PlanSpec:
    """Return the plan's limits as the compliance engine reads them ($, %, Δ)."""
    return PlanSpec(
        monthly_income_target=plan.monthly_income_target,
        risk_per_trade=plan.risk_per_trade,
        max_overnight_exposure=plan.max_overnight_exposure,
        strategies=tuple(
            StrategyRule(
                strategy_type=StrategyType(rule.strategy_type),
                allocation_percentage=rule.allocation_percentage,
                max_positions=rule.max_positions,
                delta_range_min=rule.delta_range_min,
                delta_range_max=rule.delta_range_max,
                target_credit=rule.target_credit,
            )
            for rule in plan.strategies.all()
        ),
    )


# The live book -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """One open strategy group: what compliance judged, and where it came from.

    ``buying_power_effect`` is $ of buying power held (None when unknown: it
    then counts as $0 in the allocation); ``position_ids`` are the legs
    (positions rows) the group holds part or all of.
    """

    facts: GroupFacts
    portfolio_id: int
    position_ids: tuple[int, ...]
    contracts: Decimal
    net_credit: Decimal
    max_profit: Decimal | None
    buying_power_effect: Decimal | None


@dataclass(frozen=True, slots=True)
class PortfolioBook:
    """One portfolio's digested book; money in $, BWD in $ (|BWD| × SPY price)."""

    portfolio_id: int
    synced_at: dt.datetime | None
    net_liquidation_value: Decimal | None
    groups: tuple[GroupSummary, ...]
    income_mtd: Decimal
    legs: int
    legs_unpriced: int
    legs_beta_missing: int
    beta_weighted_delta_dollars: Decimal | None


@dataclass(frozen=True, slots=True)
class LiveBook:
    """The book a plan covers: one portfolio or all of the user's.

    ``as_of`` is the oldest sync among the portfolios that sync (None when
    none does); ``buying_power`` = Σ net liquidation value ($, None when no
    portfolio has one); ``beta_weighted_delta_dollars`` is signed $, None when
    legs exist but none of them has a delta and a beta.
    """

    portfolio_ids: tuple[int, ...]
    as_of: dt.datetime | None
    income_mtd: Decimal
    groups: tuple[GroupSummary, ...]
    legs: int
    legs_unpriced: int
    legs_beta_missing: int
    beta_weighted_delta_dollars: Decimal | None
    buying_power: Decimal | None

    def facts(self) -> BookFacts:
        return BookFacts(
            income_mtd=self.income_mtd,
            groups=tuple(group.facts for group in self.groups),
            beta_weighted_delta_dollars=self.beta_weighted_delta_dollars,
            buying_power=self.buying_power,
        )


def portfolio_books(
    *, user_id: str, portfolio_ids: Sequence[int] | None, now: dt.datetime
) -> dict[int, PortfolioBook]:
    """Load and digest the user's portfolios (all of them when ``portfolio_ids`` is None).

    Three queries whatever the number of legs: portfolios, legs, this New York
    month's transactions.
    """
    portfolios = Portfolio.objects.filter(user_id=user_id).order_by("pk")
    if portfolio_ids is not None:
        portfolios = portfolios.filter(pk__in=list(portfolio_ids))
    portfolios = list(portfolios)
    if not portfolios:
        return {}
    ids = [portfolio.pk for portfolio in portfolios]
    rows = book_rows(portfolio_ids=ids)
    income = _income_by_portfolio(portfolio_ids=ids, now=now)

    today = now.astimezone(ZoneInfo(settings.MARKET_TIME_ZONE)).date()
    books = {}
    for portfolio in portfolios:
        book = digest(portfolio=portfolio, rows=rows.get(portfolio.pk, []), today=today)
        bwd, unpriced, beta_missing = _beta_weighted_delta_dollars(book)
        books[portfolio.pk] = PortfolioBook(
            portfolio_id=portfolio.pk,
            synced_at=portfolio.synced_at,
            net_liquidation_value=portfolio.net_liquidation_value,
            groups=_summaries(book),
            income_mtd=income[portfolio.pk],
            legs=len(book.rows),
            legs_unpriced=unpriced,
            legs_beta_missing=beta_missing,
            beta_weighted_delta_dollars=bwd,
        )
    return books


def live_book(*, books: Mapping[int, PortfolioBook], portfolio_id: int | None) -> LiveBook:
    """Combine digested portfolios into the book a plan covers (None = all of them)."""
    if portfolio_id is None:
        chosen = [books[key] for key in sorted(books)]
    else:
        chosen = [books[portfolio_id]] if portfolio_id in books else []
    synced = [book.synced_at for book in chosen if book.synced_at is not None]
    net_liqs = [
        book.net_liquidation_value for book in chosen if book.net_liquidation_value is not None
    ]
    bwds = [book.beta_weighted_delta_dollars for book in chosen]
    known_bwds = [bwd for bwd in bwds if bwd is not None]
    groups = tuple(group for book in chosen for group in book.groups)
    return LiveBook(
        portfolio_ids=tuple(book.portfolio_id for book in chosen),
        as_of=min(synced) if synced else None,
        income_mtd=sum((book.income_mtd for book in chosen), Decimal("0.00")),
        groups=tuple(sorted(groups, key=lambda g: (g.facts.strategy_type, g.facts.group_id))),
        legs=sum(book.legs for book in chosen),
        legs_unpriced=sum(book.legs_unpriced for book in chosen),
        legs_beta_missing=sum(book.legs_beta_missing for book in chosen),
        beta_weighted_delta_dollars=(
            sum(known_bwds, Decimal("0.00")) if known_bwds or not chosen else None
        ),
        buying_power=sum(net_liqs, Decimal("0.00")) if net_liqs else None,
    )


# Compliance --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncomeSummary:
    """Income realised this New York month ($) against the plan's target (None: not set)."""

    month: tuple[int, int]
    mtd: Decimal
    target: Decimal | None
    pace: MonthPace | None


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    """A plan measured against its live book at ``evaluated_at``."""

    plan: TradePlan
    evaluated_at: dt.datetime
    book: LiveBook
    checks: tuple[ComplianceCheck, ...]
    status: CheckStatus
    income: IncomeSummary


def compliance_report(*, plan: TradePlan, book: LiveBook, now: dt.datetime) -> ComplianceReport:
    """Evaluate the plan's rules against a book already loaded."""
    checks = tuple(evaluate_plan(plan=plan_spec(plan=plan), book=book.facts(), now=now))
    target = plan.monthly_income_target
    local_now = now.astimezone(ZoneInfo(settings.MARKET_TIME_ZONE))
    income = IncomeSummary(
        month=(local_now.year, local_now.month),
        mtd=book.income_mtd,
        target=target,
        pace=None if target is None else month_pace(mtd=book.income_mtd, target=target, now=now),
    )
    return ComplianceReport(
        plan=plan,
        evaluated_at=now,
        book=book,
        checks=checks,
        status=overall_status(checks),
        income=income,
    )


def trade_plan_compliance(*, plan: TradePlan, now: dt.datetime) -> ComplianceReport:
    """Measure one plan against the live book of its scope, in a fixed number of queries."""
    scope = None if plan.portfolio_id is None else [plan.portfolio_id]
    books = portfolio_books(user_id=plan.user_id, portfolio_ids=scope, now=now)
    return compliance_report(
        plan=plan, book=live_book(books=books, portfolio_id=plan.portfolio_id), now=now
    )


# Digesting ---------------------------------------------------------------------


def _income_by_portfolio(*, portfolio_ids: Sequence[int], now: dt.datetime) -> dict:
    """Return each portfolio's realised income ($) of ``now``'s New York month so far."""
    today = now.astimezone(ZoneInfo(settings.MARKET_TIME_ZONE)).date()
    rows = Transaction.objects.filter(
        portfolio_id__in=list(portfolio_ids),
        transaction_date__gte=today.replace(day=1),
        transaction_date__lte=today,
    ).values_list(*TRANSACTION_COLUMNS)
    by_portfolio: dict[int, list[TransactionView]] = defaultdict(list)
    for portfolio_id, kind, sub_type, action, instrument, net, executed, date in rows:
        by_portfolio[portfolio_id].append(
            TransactionView(
                transaction_type=kind,
                net_value=net,
                sub_type=sub_type or None,
                action=action or None,
                instrument_type=instrument or None,
                executed_at=executed,
                transaction_date=date,
            )
        )
    return defaultdict(
        lambda: Decimal("0.00"),
        {
            portfolio_id: income_month_to_date(views, now=now, tz=settings.MARKET_TIME_ZONE)
            for portfolio_id, views in by_portfolio.items()
        },
    )


def _summaries(book: Book) -> tuple[GroupSummary, ...]:
    """Summarise each of the book's groups as compliance judges it."""
    rows = {row["id"]: row for row in book.rows}
    return tuple(
        _summarise(group, rows, book.portfolio.pk) for group in book.groups if not group.expired
    )


def _summarise(group: BookGroup, rows: Mapping[int, dict], portfolio_id: int) -> GroupSummary:
    detected = group.detected
    short_deltas = [
        _per_contract_delta(rows[part.position_id])
        for part in group.parts
        if part.quantity < 0 and rows[part.position_id]["instrument_type"] in OPTION_INSTRUMENTS
    ]
    buying_power = group.buying_power_reduction
    facts = group_facts(
        group=dataclasses.replace(detected, group_id=group.group_id),
        buying_power_effect=buying_power if buying_power is not None else Decimal(0),
        short_leg_deltas=short_deltas,
    )
    if FLAG_PREMIUM_UNKNOWN in detected.flags:
        # A leg without a premium would count as $0 and understate the credit.
        facts = dataclasses.replace(facts, credit_per_contract=None)
    return GroupSummary(
        facts=facts,
        portfolio_id=portfolio_id,
        position_ids=tuple(part.position_id for part in group.parts),
        contracts=detected.contracts,
        net_credit=detected.net_credit,
        max_profit=detected.max_profit,
        buying_power_effect=buying_power,
    )


def _per_contract_delta(row: Mapping) -> Decimal | None:
    """Return a leg's position delta per contract: delta / (|quantity| × multiplier).

    A short call's is negative, a short put's positive (Δ 30 short put = 0.30).
    """
    if row["delta"] is None:
        return None
    # Through str so a stored 30.0 gives exactly 0.3, not a binary neighbour.
    return Decimal(str(row["delta"])) / (abs(Decimal(row["quantity"])) * row["multiplier"])


def _beta_weighted_delta_dollars(book: Book) -> tuple[Decimal | None, int, int]:
    """Return (BWD in $, legs unpriced, legs with a delta but no usable beta).

    BWD $ = Σ delta × beta × underlying price: the SPY price cancels out of the
    dollar figure, so a book without a stored SPY price (a manual portfolio)
    is weighted against 1 and still gets its dollars. The same stored greeks
    and the same "priced" and "expired" rules as the metrics endpoint; a book
    of expired legs only has no exposure ($0).
    """
    rows = book.rows
    if not rows:
        return Decimal("0.00"), 0, 0
    inputs = book.leg_inputs()
    spy_price = book.portfolio.spy_price
    pricing = stored_pricing(rows, inputs)
    # An expired leg's intrinsic delta is no exposure (the metrics' rule).
    expired = book.expired_mask()
    unpriced_live = int((~pricing.priced & ~expired).sum())
    pricing = dataclasses.replace(pricing, priced=pricing.priced & ~expired)
    exposure = portfolio_exposure(
        inputs,
        pricing,
        underlying=[row["underlying_symbol"] for row in rows],
        group_ids=book.leg_group_ids(),
        spy_price=float(spy_price) if spy_price else 1.0,
        net_liquidation_value=None,
        premium_received=[row["premium_received"] for row in rows],
        current_value=[row["current_value"] for row in rows],
    )
    live = int((~expired).sum())
    if live == 0:
        return Decimal("0.00"), 0, 0
    weighted = live - unpriced_live - exposure.legs_beta_missing
    dollars = exposure.beta_weighted_delta_dollars
    if weighted == 0 or dollars is None:
        return None, unpriced_live, exposure.legs_beta_missing
    return (
        Decimal(repr(dollars)).quantize(CENT, ROUND_HALF_UP),
        unpriced_live,
        exposure.legs_beta_missing,
    )


# Plan status on the portfolio pages ---------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanStatus:
    """The active plans covering a scope, measured now: worst status and check counts."""

    status: str  # "ok", "warn" or "breach"; "" when no active plan covers the scope
    plans: int
    breaches: int
    warnings: int
    plan_id: int | None  # the one plan, when exactly one covers the scope


def plan_status(*, user_id: str, portfolio_id: int | None, now: dt.datetime) -> PlanStatus:
    """Measure the user's active plans that cover ``portfolio_id`` (None: every plan).

    A plan covers a portfolio when scoped to it or to all portfolios. Five
    queries whatever the number of plans and legs (plans, strategies, and
    the book's three).
    """
    plans = TradePlan.objects.filter(user_id=user_id, is_active=True).prefetch_related("strategies")
    if portfolio_id is not None:
        plans = plans.filter(Q(portfolio_id=portfolio_id) | Q(portfolio_id__isnull=True))
    plans = list(plans.order_by("pk"))
    if not plans:
        return PlanStatus(status="", plans=0, breaches=0, warnings=0, plan_id=None)
    # Measuring digests the whole book: cache it until a plan or a portfolio
    # changes, or the hour turns (income pace moves with the clock).
    versions = Portfolio.objects.filter(user_id=user_id).order_by("pk")
    stamp = "|".join(
        [f"{p.pk}.{p.updated_at.isoformat()}" for p in plans]
        + [
            f"{pk}.{v}.{u.isoformat()}"
            for pk, v, u in versions.values_list("pk", "sync_version", "updated_at")
        ]
        + [now.strftime("%Y%m%d%H")]
    )
    key = f"plan-status:{user_id}:{portfolio_id}:{hashlib.sha256(stamp.encode()).hexdigest()[:24]}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    books = portfolio_books(user_id=user_id, portfolio_ids=None, now=now)
    counts = {CheckStatus.BREACH: 0, CheckStatus.WARN: 0}
    for plan in plans:
        report = compliance_report(
            plan=plan, book=live_book(books=books, portfolio_id=plan.portfolio_id), now=now
        )
        for check in report.checks:
            if check.status in counts:
                counts[check.status] += 1
    breaches, warnings = counts[CheckStatus.BREACH], counts[CheckStatus.WARN]
    status = PlanStatus(
        status="breach" if breaches else "warn" if warnings else "ok",
        plans=len(plans),
        breaches=breaches,
        warnings=warnings,
        plan_id=plans[0].pk if len(plans) == 1 else None,
    )
    cache.set(key, status, timeout=3600)
    return status


def breaches_by_subject(*, user_id: str, portfolio_id: int) -> dict[str, list[dict]]:
    """Return the open breaches of the active plans covering the portfolio, by subject.

    Subjects are strategy group ids (as the legs store them), strategy types,
    or "" for book-wide rules; one query.
    """
    rows = (
        TradePlanBreach.objects.filter(
            trade_plan__user_id=user_id,
            trade_plan__is_active=True,
        )
        .filter(Q(trade_plan__portfolio_id=portfolio_id) | Q(trade_plan__portfolio_id__isnull=True))
        .order_by("subject", "rule", "trade_plan_id")
        .values("subject", "rule", "message", "trade_plan_id", "trade_plan__name")
    )
    found: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        found[row["subject"]].append(
            {
                "rule": row["rule"],
                "message": row["message"],
                "plan_id": row["trade_plan_id"],
                "plan_name": row["trade_plan__name"],
            }
        )
    return dict(found)
