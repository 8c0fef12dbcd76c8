"""The API's JSON renderer: DRF's output, encoded by orjson.

A 500-leg positions page is ~15,000 values; the standard library's encoder
spends more time on it than the query does. orjson writes the same JSON
(compact, UTF-8, keys in order) several times faster. Whatever orjson does
not encode natively goes through DRF's own encoder, so it comes out exactly
as before: a Decimal that reached the renderer without a serializer field
(those already emit decimal strings) stays a JSON number, a datetime keeps
the "Z" suffix, a lazy string is forced. Anything orjson refuses (an int
beyond 64 bits, a pretty-print `indent` other than 2) is left to DRF's
renderer.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = (
    orjson.OPT_NON_STR_KEYS  # {1: …} becomes {"1": …}, as json.dumps does
    | orjson.OPT_PASSTHROUGH_DATETIME  # DRF writes +00:00 as "Z"
    | orjson.OPT_PASSTHROUGH_DATACLASS  # DRF does not encode dataclasses
)
# U+2028 and U+2029 are valid JSON but not valid JavaScript: DRF escapes them.
_LINE_SEPARATORS = ("\u2028".encode(), "\u2029".encode())


@dataclass(frozen=True)
class RawJSON:
    """A value already written as JSON (by PostgreSQL, say): embedded as it is.

    orjson copies the text into the document; DRF's own encoder (pretty
    printing, the browsable API) parses it first.
    """

    text: str


class _Encoder(JSONEncoder):
    def default(self, obj):
        if isinstance(obj, RawJSON):
            return orjson.loads(obj.text)
        return super().default(obj)


_ENCODER = _Encoder()


def _orjson_default(obj):
    if isinstance(obj, RawJSON):
        return orjson.Fragment(obj.text)
    return _ENCODER.default(obj)


class OrjsonRenderer(JSONRenderer):
    """DRF's JSONRenderer output, encoded with orjson when it can."""

    encoder_class = _Encoder

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            content = orjson.dumps(data, default=_orjson_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if _LINE_SEPARATORS[0] in content or _LINE_SEPARATORS[1] in content:
            content = content.replace(_LINE_SEPARATORS[0], b"\\u2028").replace(
                _LINE_SEPARATORS[1], b"\\u2029"
            )
        return content
