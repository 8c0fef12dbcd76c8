"""`?format=csv` for the positions list (see portfolios.csv_export)."""

from __future__ import annotations

from rest_framework.renderers import BaseRenderer

from portfolios.csv_export import positions_csv


class PositionsCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict) and "results" in data:
            data = data["results"]
        return positions_csv(data or []).encode(self.charset)
