"""portfolios/book.py is the only place that turns position rows into pricing,
detection or buying-power inputs, and the instrument sets are spelled once.

A grep over the product's modules: a second copy would have to build one of
these inputs itself, which is what the patterns catch.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_APPS = ("portfolios", "metrics", "tradeplans", "brokers", "thetavue_site")

# Building detection, buying-power or pricing inputs from rows.
INPUT_BUILDERS = re.compile(
    r"\bLegView\(|\bdetect_strategies\(|\bleg_assignments\(|\bMarginLeg\("
    r"|LegInputs\.from_rows\(|LegInputs\.from_columns\("
)
ALLOWED = {
    "portfolios/book.py",  # the adapter
    "portfolios/strategies.py",  # detection itself
    "metrics/buying_power.py",  # the rules themselves
    "metrics/pricing.py",  # LegInputs itself
    "metrics/stored_legs.py",  # the column read the nightly re-pricing uses
}
INSTRUMENT_SETS = re.compile(r"frozenset\(\{\s*\"(Equity|Future)")


def product_modules():
    for app in PRODUCT_APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/tests/" in relative or "/migrations/" in relative or "/sandbox/" in relative:
                continue
            yield relative, path.read_text()


def test_only_the_adapter_builds_inputs_from_position_rows():
    offenders = {
        relative
        for relative, text in product_modules()
        if relative not in ALLOWED and INPUT_BUILDERS.search(text)
    }
    assert offenders == set()


def test_instrument_sets_are_spelled_once():
    offenders = {
        relative
        for relative, text in product_modules()
        if relative != "portfolios/instruments.py" and INSTRUMENT_SETS.search(text)
    }
    assert offenders == set()


def test_the_check_sees_a_copy():
    # The patterns match what a copy would write.
    assert INPUT_BUILDERS.search("views = [LegView(id=row['id'])]")
    assert INPUT_BUILDERS.search("inputs = LegInputs.from_rows(rows)")
    assert INSTRUMENT_SETS.search('OPTIONS = frozenset({"Equity Option", "Future Option"})')
