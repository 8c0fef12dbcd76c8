"""DRF's content negotiation, with the most common request answered without parsing.

Most API calls send no Accept header, or `*/*`, and no `?format=`: DRF then
parses the header into media types and matches them against every renderer
only to pick the first renderer. Here that case picks it at once, with the
media type DRF would give; anything else goes through DRF's own negotiation.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

_ANYTHING = (None, "*/*")  # an empty Accept is a 406 in DRF: left to it


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            not format_suffix
            and renderers
            and request.META.get("HTTP_ACCEPT") in _ANYTHING
            and not request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
