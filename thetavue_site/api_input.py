"""Strict input pieces every API serializer and parser shares (DESIGN §11: never a 500).

- `BoundedDateField`: a date between MIN_DATE and MAX_DATE. Python's `date`
  reaches year 1 and 9999, but date arithmetic near either end overflows
  (`date(1, 1, 1) - timedelta(days=365)` raises OverflowError), and no market
  date of this product lies outside these bounds.
- `JSONParser`: DRF's parser with a nesting-depth limit. Deeply nested JSON
  makes the decoder and every recursive walk after it (serializers, the error
  mapper) exhaust Python's stack; no request body of the API nests deeper than
  a few levels.
"""

from __future__ import annotations

import datetime as dt

from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)
MAX_JSON_DEPTH = 32


class BoundedDateField(serializers.DateField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        message = f"Must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}."
        self.validators.append(_date_bounds(message))


def _date_bounds(message: str):
    def check(value: dt.date) -> None:
        if not MIN_DATE <= value <= MAX_DATE:
            raise serializers.ValidationError(message)

    return check


def json_depth_exceeds(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """Return whether a decoded JSON value nests deeper than `limit` (iteratively)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if json_depth_exceeds(data):
            raise too_deep
        return data
