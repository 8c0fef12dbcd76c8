"""OrjsonRenderer writes the bytes DRF's JSONRenderer writes, faster."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

import numpy as np
import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from thetavue_site.renderers import OrjsonRenderer

PAYLOAD = {
    "count": 2,
    "next": None,
    "results": [
        {
            "mark": "6.370000",
            "raw_decimal": Decimal("12.50"),  # no serializer field: DRF sends a number
            "delta": 186.3339270097148,
            "quantity": -7,
            "updated_at": dt.datetime(2026, 3, 2, 15, 0, 0, 123456, tzinfo=dt.UTC),
            "synced_at": dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC),
            "expiration_date": dt.date(2026, 4, 17),
            "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "label": gettext_lazy("Portfolio"),
            "note": "line\u2028break\u2029end, ünïcode",
            "greeks": np.array([0.5, -1.25]),
            "beta": np.float64(1.1),
            "tags": ("a", "b"),
        },
        {1: "int key", "nested": {"ok": True}},
    ],
}


def test_same_bytes_as_drf():
    assert OrjsonRenderer().render(PAYLOAD) == JSONRenderer().render(PAYLOAD)


@pytest.mark.parametrize(
    "data",
    [None, {"big": 2**70}, {"x": 1}],
    ids=["none", "int-beyond-64-bits", "plain"],
)
def test_edge_cases_match_drf(data):
    assert OrjsonRenderer().render(data) == JSONRenderer().render(data)


def test_indent_requested_by_the_client_is_honoured():
    media_type = "application/json; indent=4"
    assert OrjsonRenderer().render(PAYLOAD, media_type) == JSONRenderer().render(
        PAYLOAD, media_type
    )


def test_what_drf_cannot_encode_still_fails():
    @dataclasses.dataclass
    class Point:
        x: int

    with pytest.raises(TypeError):
        OrjsonRenderer().render({"p": Point(1)})
