from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from portfolios.strategies import detect_strategies
from portfolios.strategy_types import StrategyType as ST
from portfolios.tests.strategy_books import BOOKS
from tradeplans.compliance import (
    BookFacts,
    CheckStatus,
    ComplianceCheck,
    GroupFacts,
    PlanSpec,
    StrategyRule,
    delta_range_problem,
    evaluate_plan,
    group_facts,
    overall_status,
)

NY = ZoneInfo("America/New_York")
# 16 April 2026 00:00 New York: exactly half of April has gone by.
MID_APRIL = datetime(2026, 4, 16, tzinfo=NY)
OK, WARN, BREACH = CheckStatus.OK, CheckStatus.WARN, CheckStatus.BREACH


def D(value: str | int) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(str(value))


def group(group_id: str = "g1", stype: ST = ST.PUT_CREDIT_SPREAD, **kw) -> GroupFacts:
    fields = {
        "group_id": group_id,
        "strategy_type": stype,
        "label": f"SPY {stype.label.lower()} {group_id}",
        "max_loss": D(400),
        "undefined_risk": False,
    }
    fields.update(kw)
    return GroupFacts(**fields)


def only(checks: list[ComplianceCheck], rule: str) -> ComplianceCheck:
    (check,) = [c for c in checks if c.rule == rule]
    return check


# Income target -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mtd", "status", "why"),
    [
        ("1499.99", WARN, "behind pace"),
        ("1500.00", OK, "on pace"),
        ("3000.00", OK, "meets the $3,000.00 monthly target"),
    ],
)
def test_income_flips_to_ok_exactly_at_the_pace_target(mtd, status, why):
    plan = PlanSpec(monthly_income_target=D(3000))
    book = BookFacts(income_mtd=D(mtd))

    check = only(evaluate_plan(plan=plan, book=book, now=MID_APRIL), "income_target")

    assert check.status == status
    assert (check.actual, check.limit) == (D(mtd), D(3000))
    assert check.details["pace_target"] == D("1500.00")
    assert check.details["elapsed_fraction"] == D("0.5")
    assert why in check.message


def test_income_behind_pace_explains_the_numbers_and_never_breaches():
    plan = PlanSpec(monthly_income_target=D(3000))
    last_minute = datetime(2026, 4, 30, 23, 59, tzinfo=NY)

    check = only(
        evaluate_plan(plan=plan, book=BookFacts(income_mtd=D(-500)), now=last_minute),
        "income_target",
    )

    assert check.status == WARN
    assert check.message.startswith("Income target: −$500.00 realised this month is behind pace")
    assert "of April 2026 has passed, so $2,999.93 of the $3,000.00 target" in check.message


def test_income_pace_uses_new_york_time():
    # 1 April 03:30 UTC is still 31 March in New York: March is all but over.
    plan = PlanSpec(monthly_income_target=D(3100))
    now = datetime(2026, 4, 1, 3, 30, tzinfo=UTC)

    check = only(
        evaluate_plan(plan=plan, book=BookFacts(income_mtd=D(0)), now=now), "income_target"
    )

    assert check.details["month"] == "2026-03"
    assert check.status == WARN


# Risk per trade ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_loss", "status"),
    [("449.99", OK), ("450.00", WARN), ("500.00", WARN), ("500.01", BREACH)],
)
def test_risk_flips_at_ninety_percent_and_at_the_limit(max_loss, status):
    plan = PlanSpec(risk_per_trade=D(500))
    book = BookFacts(income_mtd=D(0), groups=(group(max_loss=D(max_loss)),))

    check = only(evaluate_plan(plan=plan, book=book, now=MID_APRIL), "risk_per_trade")

    assert (check.subject, check.status, check.actual, check.limit) == (
        "g1",
        status,
        D(max_loss),
        D(500),
    )
    assert check.details["warn_at"] == D("450.0")


def test_risk_message_names_the_group_and_the_numbers():
    plan = PlanSpec(risk_per_trade=D(500))
    book = BookFacts(income_mtd=D(0), groups=(group(max_loss=D("480")),))

    check = only(evaluate_plan(plan=plan, book=book, now=MID_APRIL), "risk_per_trade")

    assert check.message == (
        "Risk per trade: SPY put credit spread g1 can lose up to $480.00, within 10 % "
        "of the $500.00 limit (warning from $450.00)."
    )


@pytest.mark.parametrize("max_loss", [None, D(53565)])
def test_undefined_risk_is_a_breach_that_says_so(max_loss):
    plan = PlanSpec(risk_per_trade=D(1_000_000))
    naked = group(stype=ST.SHORT_PUT, max_loss=max_loss, undefined_risk=True)

    check = only(
        evaluate_plan(plan=plan, book=BookFacts(income_mtd=D(0), groups=(naked,)), now=MID_APRIL),
        "risk_per_trade",
    )

    assert check.status == BREACH
    assert "has undefined risk" in check.message
    assert "$1,000,000.00 limit" in check.message


@pytest.mark.parametrize(
    ("stype", "because"),
    [
        (ST.SHORT_PUT, "short options not covered by long options or cash leave its loss "
         "uncapped"),
        (ST.FUTURE, "a future is leveraged, so its loss is not capped by what it cost"),
        (ST.STOCK, "short stock's loss is uncapped"),
        (ST.OTHER, "nothing in it caps its loss"),
    ],
)  # fmt: skip
def test_undefined_risk_says_why_in_the_words_of_what_the_group_holds(stype, because):
    plan = PlanSpec(risk_per_trade=D(800))
    held = group("f1", stype=stype, max_loss=None, undefined_risk=True)

    check = only(
        evaluate_plan(plan=plan, book=BookFacts(income_mtd=D(0), groups=(held,)), now=MID_APRIL),
        "risk_per_trade",
    )

    assert check.message == (
        f"Risk per trade: SPY {stype.label.lower()} f1 has undefined risk: {because}, so it "
        "cannot be held within the $800.00 limit."
    )


# Overnight exposure ------------------------------------------------------------


@pytest.mark.parametrize(
    ("bwd", "status"),
    [
        ("8999.99", OK),
        ("9000.00", WARN),
        ("-9000.00", WARN),
        ("10000.00", WARN),
        ("-10000.00", WARN),
        ("10000.01", BREACH),
        ("-10000.01", BREACH),
    ],
)
def test_exposure_compares_the_absolute_bwd_dollars(bwd, status):
    plan = PlanSpec(max_overnight_exposure=D(10000))
    book = BookFacts(income_mtd=D(0), beta_weighted_delta_dollars=D(bwd))

    check = only(evaluate_plan(plan=plan, book=book, now=MID_APRIL), "overnight_exposure")

    assert (check.status, check.actual, check.limit) == (status, abs(D(bwd)), D(10000))


def test_exposure_without_a_bwd_figure_warns():
    plan = PlanSpec(max_overnight_exposure=D(10000))

    check = only(
        evaluate_plan(plan=plan, book=BookFacts(income_mtd=D(0)), now=MID_APRIL),
        "overnight_exposure",
    )

    assert check.status == WARN
    assert "no beta-weighted delta is available" in check.message


# Allocation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("used", "status"),
    [("22499.99", OK), ("22500.00", WARN), ("25000.00", WARN), ("25000.01", BREACH)],
)
def test_allocation_flips_within_ten_percent_and_above_it(used, status):
    # given two short puts whose buying power adds up to `used` of 100,000
    half = D(used) / 2
    plan = PlanSpec(strategies=(StrategyRule(ST.SHORT_PUT, allocation_percentage=D(25)),))
    book = BookFacts(
        income_mtd=D(0),
        buying_power=D(100000),
        groups=(
            group("a", ST.SHORT_PUT, buying_power_effect=half),
            group("b", ST.SHORT_PUT, buying_power_effect=-half),  # sign ignored
            group("c", ST.IRON_CONDOR, buying_power_effect=D(50000)),  # other strategy
        ),
    )

    check = only(evaluate_plan(plan=plan, book=book, now=MID_APRIL), "allocation")

    assert (check.subject, check.status, check.limit) == ("short_put", status, D(25))
    assert check.actual == D(used) / 1000
    assert check.details["buying_power_used"] == D(used)


def test_allocation_message_gives_share_and_dollars():
    plan = PlanSpec(strategies=(StrategyRule(ST.SHORT_PUT, allocation_percentage=D(25)),))
    book = BookFacts(
        income_mtd=D(0),
        buying_power=D(100000),
        groups=(group("a", ST.SHORT_PUT, buying_power_effect=D(27500)),),
    )

    check = only(evaluate_plan(plan=plan, book=book, now=MID_APRIL), "allocation")

    assert check.message == (
        "Allocation: short put groups hold $27,500.00 of buying power, 27.5 % of the "
        "$100,000.00 net liq, above the 25.0 % allocation."
    )


def test_allocation_without_buying_power_warns():
    plan = PlanSpec(strategies=(StrategyRule(ST.SHORT_PUT, allocation_percentage=D(25)),))

    check = only(
        evaluate_plan(plan=plan, book=BookFacts(income_mtd=D(0)), now=MID_APRIL), "allocation"
    )

    assert check.status == WARN
    assert "net liq is unknown" in check.message


# Max positions -----------------------------------------------------------------


@pytest.mark.parametrize(("count", "status"), [(0, OK), (2, OK), (3, WARN), (4, BREACH)])
def test_max_positions_warns_when_full_and_breaches_beyond(count, status):
    plan = PlanSpec(strategies=(StrategyRule(ST.SHORT_STRANGLE, max_positions=3),))
    groups = tuple(group(f"g{i}", ST.SHORT_STRANGLE) for i in range(count))
    book = BookFacts(income_mtd=D(0), groups=(*groups, group("x", ST.SHORT_PUT)))

    check = only(evaluate_plan(plan=plan, book=book, now=MID_APRIL), "max_positions")

    assert (check.subject, check.status, check.actual, check.limit) == (
        "short_strangle",
        status,
        D(count),
        D(3),
    )
    assert f"{count} open short strangle groups" in check.message


# Delta range -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "status"),
    [(-0.149, BREACH), (-0.15, OK), (-0.3, OK), (-0.301, BREACH)],
)
def test_signed_delta_range_includes_its_bounds(delta, status):
    # a short call's position delta is negative: −0.30 to −0.15 is 15 to 30 delta
    rule = StrategyRule(ST.SHORT_CALL, delta_range_min=D("-0.30"), delta_range_max=D("-0.15"))
    plan = PlanSpec(strategies=(rule,))
    book = BookFacts(
        income_mtd=D(0), groups=(group("p", ST.SHORT_CALL, short_leg_deltas=(delta,)),)
    )

    check = only(evaluate_plan(plan=plan, book=book, now=MID_APRIL), "delta_range")

    assert (check.subject, check.status, check.actual) == ("p", status, D(str(delta)))


@pytest.mark.parametrize(
    ("deltas", "status", "actual"),
    [
        # the call's position delta < 0, the put's > 0: −0.30 to 0.30 holds both
        ((-0.30, 0.30), OK, D("-0.3")),
        ((-0.31, 0.2), BREACH, D("-0.31")),
        ((-0.2, 0.301), BREACH, D("0.301")),
    ],
)
def test_a_signed_range_compares_each_side_by_its_position_delta(deltas, status, actual):
    rule = StrategyRule(ST.SHORT_STRANGLE, delta_range_min=D("-0.30"), delta_range_max=D("0.30"))
    plan = PlanSpec(strategies=(rule,))
    strangle = group("s", ST.SHORT_STRANGLE, short_leg_deltas=deltas)

    check = only(
        evaluate_plan(
            plan=plan, book=BookFacts(income_mtd=D(0), groups=(strangle,)), now=MID_APRIL
        ),
        "delta_range",
    )

    assert (check.status, check.actual) == (status, actual)
    assert "|delta|" not in check.message


@pytest.mark.parametrize(
    ("strategy", "low", "high", "refused"),
    [
        # a short call's position delta lies in −1…0: any signed range reaches it
        (ST.SHORT_CALL, "-0.30", "-0.10", False),
        (ST.CALL_CREDIT_SPREAD, None, "-0.10", False),
        # a short put's lies in 0…1: a signed range with no room above zero cannot
        (ST.SHORT_PUT, "-0.30", "-0.10", True),
        (ST.PUT_CREDIT_SPREAD, "-0.30", "0", True),
        (ST.PUT_CREDIT_SPREAD, "-0.30", "0.01", False),
        # both sides must fit: the strangle's put is the one that cannot
        (ST.SHORT_STRANGLE, "-0.30", "-0.10", True),
        (ST.IRON_CONDOR, "-0.30", "0.30", False),
        # |Δ| ranges fit any side; either-side and long shapes are not judged
        (ST.SHORT_PUT, "0.10", "0.30", False),
        (ST.CALENDAR, "-0.30", "-0.10", False),
        (ST.LONG_CALL, "-0.30", "-0.10", False),
    ],
)
def test_a_range_no_short_leg_of_the_strategy_can_meet_is_explained(strategy, low, high, refused):
    problem = delta_range_problem(
        strategy, None if low is None else D(low), None if high is None else D(high)
    )

    assert (problem is not None) == refused
    if refused:
        assert problem.startswith(f"{strategy.label}: a short put's delta is positive")


@pytest.mark.parametrize(
    ("deltas", "status", "actual", "limit"),
    [
        ((-0.16, 0.30), OK, D("0.16"), D("0.16")),
        ((-0.2, 0.30), OK, D("0.30"), D("0.30")),
        ((-0.16, 0.31), BREACH, D("0.31"), D("0.30")),
        ((-0.159, 0.2), BREACH, D("0.159"), D("0.16")),
        ((-0.2, None), WARN, D("0.2"), D("0.16")),
    ],
)
def test_a_non_negative_range_compares_absolute_deltas(deltas, status, actual, limit):
    rule = StrategyRule(ST.SHORT_STRANGLE, delta_range_min=D("0.16"), delta_range_max=D("0.30"))
    plan = PlanSpec(strategies=(rule,))
    strangle = group("s", ST.SHORT_STRANGLE, short_leg_deltas=deltas)

    check = only(
        evaluate_plan(
            plan=plan, book=BookFacts(income_mtd=D(0), groups=(strangle,)), now=MID_APRIL
        ),
        "delta_range",
    )

    assert (check.status, check.actual, check.limit) == (status, actual, limit)
    assert "|delta|" in check.message


def test_delta_range_skips_groups_without_short_legs():
    rule = StrategyRule(ST.LONG_CALL, delta_range_min=D("0.3"), delta_range_max=D("0.7"))
    book = BookFacts(income_mtd=D(0), groups=(group("l", ST.LONG_CALL),))

    checks = evaluate_plan(plan=PlanSpec(strategies=(rule,)), book=book, now=MID_APRIL)

    assert checks == []


# Target credit -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("credit", "status"), [("99.99", WARN), ("100.00", OK), ("100.01", OK), (None, WARN)]
)
def test_credit_warns_only_below_target(credit, status):
    rule = StrategyRule(ST.IRON_CONDOR, target_credit=D(100))
    condor = group(
        "ic",
        ST.IRON_CONDOR,
        credit_per_contract=None if credit is None else D(credit),
    )

    check = only(
        evaluate_plan(
            plan=PlanSpec(strategies=(rule,)),
            book=BookFacts(income_mtd=D(0), groups=(condor,)),
            now=MID_APRIL,
        ),
        "target_credit",
    )

    assert (check.subject, check.status, check.limit) == ("ic", status, D(100))


# Whole plan --------------------------------------------------------------------


def test_a_plan_without_limits_checks_nothing():
    book = BookFacts(income_mtd=D(0), groups=(group(),))

    assert evaluate_plan(plan=PlanSpec(), book=book, now=MID_APRIL) == []
    assert overall_status([]) == OK


def test_checks_come_in_a_stable_order_and_the_worst_wins():
    plan = PlanSpec(
        monthly_income_target=D(3000),
        risk_per_trade=D(500),
        max_overnight_exposure=D(10000),
        strategies=(
            StrategyRule(
                ST.SHORT_STRANGLE,
                allocation_percentage=D(30),
                max_positions=2,
                delta_range_min=D("0.1"),
                delta_range_max=D("0.2"),
                target_credit=D(200),
            ),
        ),
    )
    book = BookFacts(
        income_mtd=D(2000),
        beta_weighted_delta_dollars=D(-1000),
        buying_power=D(100000),
        groups=(
            group(
                "s2",
                ST.SHORT_STRANGLE,
                max_loss=None,
                undefined_risk=True,
                buying_power_effect=D(5000),
                short_leg_deltas=(-0.15, 0.15),
                credit_per_contract=D(250),
            ),
            group("pcs", max_loss=D(100)),
        ),
    )

    checks = evaluate_plan(plan=plan, book=book, now=MID_APRIL)

    assert [(c.rule, c.subject, c.status) for c in checks] == [
        ("income_target", None, OK),
        ("overnight_exposure", None, OK),
        ("risk_per_trade", "pcs", OK),
        ("risk_per_trade", "s2", BREACH),
        ("allocation", "short_strangle", OK),
        ("max_positions", "short_strangle", OK),
        ("delta_range", "s2", OK),
        ("target_credit", "s2", OK),
    ]
    assert overall_status(checks) == BREACH


def test_group_facts_come_from_detection():
    condor_book = next(b for b in BOOKS if b.name == "iron_condor_with_a_spare_long_put")
    condor = next(
        g for g in detect_strategies(condor_book.legs) if g.strategy_type == ST.IRON_CONDOR
    )

    facts = group_facts(group=condor, buying_power_effect=D(1300), short_leg_deltas=(-0.2, 0.18))

    assert facts == GroupFacts(
        group_id=condor.group_id,
        strategy_type=ST.IRON_CONDOR,
        label="SPY iron condor 530/540/600/610 2026-04-17 ×2",
        max_loss=D(1300),
        undefined_risk=False,
        buying_power_effect=D(1300),
        short_leg_deltas=(-0.2, 0.18),
        credit_per_contract=D("350.00"),
    )


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_plan(plan=PlanSpec(), book=BookFacts(income_mtd=D(0)), now=datetime(2026, 4, 1))  # noqa: DTZ001
