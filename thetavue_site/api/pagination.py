"""Limit/offset pagination that says what is wrong with a bad limit or offset.

DRF's own class silently falls back to the default on `limit=0` or
`limit=-5`; a REST client then believes it asked for something it did not
get. Here a limit below 1 or an offset below 0 is a 400 naming the
parameter; a limit above MAX_LIMIT is clamped (the response's `next` link
shows the limit used).
"""

from __future__ import annotations

from rest_framework import pagination, serializers

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 2**62


def _whole_number(request, name: str, *, minimum: int, default: int, message: str) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.isascii() and raw.isdigit() and len(raw) > 18:
        # Past any page or table size (and past int()'s digit limit for very
        # long strings): the caller clamps it to its maximum.
        return 2**62
    try:
        value = int(raw)
    except ValueError:
        raise serializers.ValidationError({name: [message]}) from None
    if value < minimum:
        raise serializers.ValidationError({name: [message]})
    return value


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT
    limit_message = f"Must be a whole number from 1 to {MAX_LIMIT} (larger values are clamped)."
    offset_message = "Must be a whole number ≥ 0."

    def get_limit(self, request):
        limit = _whole_number(
            request,
            self.limit_query_param,
            minimum=1,
            default=self.default_limit,
            message=self.limit_message,
        )
        return min(limit, self.max_limit)

    def get_offset(self, request):
        offset = _whole_number(
            request, self.offset_query_param, minimum=0, default=0, message=self.offset_message
        )
        # Any offset past the end is an empty page; beyond this one PostgreSQL's
        # OFFSET (a bigint) would fail instead.
        return min(offset, MAX_OFFSET)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Items per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}); a larger "
                    "value is clamped to the maximum, 0 or a negative value is a 400."
                ),
                "schema": {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT},
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": "Index of the first item to return (default 0); negative is a 400.",
                "schema": {"type": "integer", "minimum": 0, "default": 0},
            },
        ]

    def respond_precounted(self, request, *, rows: list, count: int, limit: int, offset: int):
        """The paginated response for a page fetched with its total in one query.

        The same envelope and links as paginate_queryset + get_paginated_response,
        without the separate COUNT query (`limit` and `offset` from get_limit and
        get_offset).
        """
        self.request, self.limit, self.offset, self.count = request, limit, offset, count
        if count > limit and self.template is not None:
            self.display_page_controls = True
        return self.get_paginated_response(rows)


class PositionsPagination(LimitOffsetPagination):
    """The positions page, with the legs the last sync set aside beside it."""

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["legs_unsupported"] = {
            "type": "array",
            "description": "Broker legs the last sync could not read or price (unknown "
            "instrument type, unparseable symbol, no mark, zero multiplier): not in "
            "`results` and left out of every total.",
            "items": {
                "type": "object",
                "required": ["symbol", "instrument_type", "quantity", "reason"],
                "properties": {
                    "symbol": {"type": "string"},
                    "instrument_type": {"type": "string"},
                    "quantity": {"type": "string", "description": "Signed, a decimal string."},
                    "reason": {"type": "string"},
                },
            },
        }
        return paginated
