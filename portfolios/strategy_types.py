"""The strategy vocabulary shared by detection, models, plans and the API.

Kept free of Django so pure modules (strategies, compliance) can import it.
"""

from enum import StrEnum


class StrategyType(StrEnum):
    SHORT_PUT = "short_put"
    CASH_SECURED_PUT = "cash_secured_put"
    COVERED_CALL = "covered_call"
    SHORT_CALL = "short_call"
    LONG_CALL = "long_call"
    LONG_PUT = "long_put"
    SHORT_STRANGLE = "short_strangle"
    SHORT_STRADDLE = "short_straddle"
    IRON_CONDOR = "iron_condor"
    IRON_BUTTERFLY = "iron_butterfly"
    PUT_CREDIT_SPREAD = "put_credit_spread"
    CALL_CREDIT_SPREAD = "call_credit_spread"
    PUT_DEBIT_SPREAD = "put_debit_spread"
    CALL_DEBIT_SPREAD = "call_debit_spread"
    JADE_LIZARD = "jade_lizard"
    REVERSE_JADE_LIZARD = "reverse_jade_lizard"
    BIG_LIZARD = "big_lizard"
    COLLAR = "collar"
    SYNTHETIC_LONG = "synthetic_long"
    SYNTHETIC_SHORT = "synthetic_short"
    BROKEN_WING_BUTTERFLY = "broken_wing_butterfly"
    CALENDAR = "calendar"
    DIAGONAL = "diagonal"
    BUTTERFLY = "butterfly"
    RATIO_SPREAD = "ratio_spread"
    STOCK = "stock"
    FUTURE = "future"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


STRATEGY_CHOICES = [(member.value, member.label) for member in StrategyType]
