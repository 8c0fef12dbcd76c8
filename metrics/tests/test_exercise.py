import pytest

from metrics.exercise import exercise_style


@pytest.mark.parametrize(
    ("instrument_type", "underlying", "root", "stated", "expected"),
    [
        ("Equity Option", "AAPL", "AAPL", None, "American"),
        ("Equity Option", "SPY", "SPY", None, "American"),  # ETF
        ("Equity Option", "SPX", "SPXW", None, "European"),
        ("Equity Option", "SPX", "SPX", None, "European"),
        ("Equity Option", "XSP", "XSP", None, "European"),
        ("Equity Option", "NDX", "NDXP", None, "European"),
        ("Equity Option", "RUT", "RUTW", None, "European"),
        ("Equity Option", "VIX", "VIXW", None, "European"),
        ("Equity Option", "DJX", "DJX", None, "European"),
        ("Equity Option", "XEO", "XEO", None, "European"),
        ("Equity Option", "OEX", "OEX", None, "American"),  # the American index option
        ("Equity Option", "SPX", "SPXW", "American", "American"),  # the broker's word wins
        ("Future Option", "/ESZ6", "ES", None, "American"),  # CME quarterly
        ("Future Option", "/ESZ6", "EW3", None, "European"),  # CME weekly
        ("Future Option", "/ESZ6", "E2A", None, "European"),
        ("Future Option", "/NQZ6", "QNE", None, "European"),  # Nasdaq end-of-month
        ("Future Option", "/NQZ6", "QN2", None, "European"),
        ("Future Option", "/NQZ6", "NQ", None, "American"),
        ("Future Option", "/MESZ6", "EX3", None, "European"),  # Micro E-mini S&P Friday weekly
        ("Future Option", "/MESZ6", "X2B", None, "European"),  # Micro Tuesday weekly
        ("Future Option", "/MESZ6", "EX", None, "European"),  # Micro end-of-month
        ("Future Option", "/MESZ6", "MES", None, "American"),  # Micro quarterly
        ("Future Option", "/MNQZ6", "D1A", None, "European"),
        ("Future Option", "/CLF7", "LO", None, "American"),
        ("Future Option", "/ZNH7", "OZN", None, "American"),
        ("Equity", "AAPL", "", None, ""),
        ("Future", "/ESZ6", "", None, ""),
    ],
)
def test_exercise_style_per_instrument(instrument_type, underlying, root, stated, expected):
    assert (
        exercise_style(
            instrument_type=instrument_type, underlying_symbol=underlying, root=root, stated=stated
        )
        == expected
    )
