"""Re-export of portfolios.symbols, where OCC and futures symbol parsing lives."""

from portfolios.symbols import *  # noqa: F403
