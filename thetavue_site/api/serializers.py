"""Serializer machinery shared by every app's API.

- StrictInputSerializer refuses keys it does not know, naming each one, so a
  typo is a 400 instead of a silent no-op; StrictBooleanField accepts only
  JSON booleans and true/false/1/0 (as a query string writes them), so
  `?unread=maybe` or `"yes"` is a 400 rather than a guess.
- DictOutputSerializer writes `.values()` rows without DRF's per-field
  overhead; QuantityField writes a signed quantity as a JSON number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings


class StrictInputSerializer(serializers.Serializer):
    """Refuse keys the serializer does not know, naming each one."""

    # Keys a client may see in the output but never write.
    read_only_keys: frozenset[str] = frozenset()
    # The browsable API's HTML forms post these alongside the data.
    ignored_keys = frozenset({"csrfmiddlewaretoken", "_content_type", "_content"})
    # True where the input is another party's (an OAuth redirect), not a client's.
    ignores_unknown_keys = False

    def to_internal_value(self, data):
        unknown: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            for key in data:
                if key in self.fields or key in self.ignored_keys or self.ignores_unknown_keys:
                    continue
                unknown[key] = [
                    "Read-only field." if key in self.read_only_keys else "Unknown field."
                ]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


@extend_schema_field(OpenApiTypes.NUMBER)
class QuantityField(serializers.DecimalField):
    """A signed quantity: read from a number or decimal string, written as a JSON number."""

    def __init__(self, **kwargs):
        # 8 places: cryptocurrency quantities (0.01234567 BTC).
        super().__init__(max_digits=20, decimal_places=8, **kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        value = Decimal(value)
        if value == value.to_integral_value():
            return int(value)
        return float(value)


@extend_schema_field({"type": "string", "format": "decimal", "example": "0.5"})
class MultiplierField(serializers.DecimalField):
    """Units per contract as a decimal string without padding: "100", "0.5", "0.1"."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=14, decimal_places=6, **kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        value = Decimal(value)
        # normalize() alone writes 100 as "1E+2"; quantize to an integer keeps digits.
        if value == value.to_integral_value():
            return str(value.quantize(Decimal(1)))
        return format(value.normalize(), "f")


class DictListSerializer(serializers.ListSerializer):
    """Many `.values()` rows: the converters (and the time zone) are looked up once."""

    def to_representation(self, data):
        rows = data.all() if isinstance(data, models.manager.BaseManager) else data
        converters = self.child.converters()
        return [
            _row_json(row, converters)
            if isinstance(row, Mapping)
            else self.child.to_representation(row)
            for row in rows
        ]


class DictOutputSerializer(serializers.Serializer):
    """Output serializer for `.values()` rows: DRF's JSON without its per-field overhead.

    A 500-leg book is 15 000 fields; DRF's generic path (get_attribute,
    SkipField checks, a field method per value) costs ~5× this loop. Model
    instances still take the generic path; test_api_positions checks that
    both give the same JSON.
    """

    class Meta:
        list_serializer_class = DictListSerializer

    @classmethod
    def converters(cls) -> tuple:
        """Return (name, to_json) for each field, built once per class and time zone."""
        zone = timezone.get_current_timezone() if settings.USE_TZ else None
        cache = cls.__dict__.get("_converters")
        if cache is None:
            cache = cls._converters = {}
        converters = cache.get(zone)
        if converters is None:
            converters = cache[zone] = tuple(
                (name, _fast_converter(field, zone)) for name, field in cls().fields.items()
            )
        return converters

    @classmethod
    def converter_of(cls, name: str):
        """Return the to_json function of one field (in the current time zone)."""
        return dict(cls.converters())[name]

    def to_representation(self, instance):
        if not isinstance(instance, Mapping):
            return super().to_representation(instance)
        return _row_json(instance, self.converters())


def _row_json(row: Mapping, converters: tuple) -> dict:
    return {
        name: None if (value := row[name]) is None else convert(value)
        for name, convert in converters
    }


def _fast_converter(field: serializers.Field, zone):
    if isinstance(field, QuantityField | MultiplierField):
        return field.to_representation
    if isinstance(field, serializers.DecimalField):
        exponent = Decimal(1).scaleb(-field.decimal_places)
        if field.decimal_places <= 6:
            # At an exponent of -6 or above, str() never switches to scientific
            # notation, so it equals format(…, "f") at a third of the cost.
            return lambda value: str(Decimal(value).quantize(exponent))
        return lambda value: format(Decimal(value).quantize(exponent), "f")
    if isinstance(field, serializers.ChoiceField | serializers.CharField):
        return str
    if isinstance(field, serializers.IntegerField):
        return int
    if isinstance(field, serializers.FloatField):
        return float
    if isinstance(field, serializers.DateTimeField):
        return _datetime_converter(field, zone)
    if isinstance(field, serializers.DateField):
        return lambda value: value.isoformat()
    return field.to_representation


def _datetime_converter(field: serializers.DateTimeField, zone):
    """DRF's ISO 8601 output of an aware datetime in `zone`, without its per-value lookups."""
    default_output = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if hasattr(field, "timezone") or zone is None or default_output.lower() != ISO_8601:
        return field.to_representation

    def convert(value):
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            return field.to_representation(value)  # a string, or naive: DRF's own rules
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


class StrictBooleanField(serializers.BooleanField):
    """A boolean that is true or false, never a guess: anything else is a 400."""

    TRUE_VALUES = {True, "true", "True", "1"}
    FALSE_VALUES = {False, "false", "False", "0"}

    def to_internal_value(self, data):
        try:
            if data in self.TRUE_VALUES:
                return True
            if data in self.FALSE_VALUES:
                return False
        except TypeError:  # unhashable, e.g. a list
            pass
        self.fail("invalid", input=data)
