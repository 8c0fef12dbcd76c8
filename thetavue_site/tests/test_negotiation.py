"""The negotiation fast path picks what DRF's own negotiation picks."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from portfolios.api.renderers import PositionsCSVRenderer
from thetavue_site.negotiation import ContentNegotiation
from thetavue_site.renderers import OrjsonRenderer

RENDERERS = [OrjsonRenderer(), BrowsableAPIRenderer(), PositionsCSVRenderer()]


@pytest.mark.parametrize(
    ("accept", "query"),
    [
        (None, ""),
        ("*/*", ""),
        ("", ""),
        ("application/json", ""),
        ("text/html", ""),
        ("text/csv", ""),
        ("text/html,application/json;q=0.9", ""),
        ("*/*", "?format=csv"),
        (None, "?format=api"),
    ],
)
def test_same_choice_as_drf(accept, query):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/x{query}", **extra))

    def choice(negotiation):
        try:
            renderer, media_type = negotiation.select_renderer(request, RENDERERS)
        except NotAcceptable:
            return "406"
        return type(renderer), media_type

    assert choice(ContentNegotiation()) == choice(DefaultContentNegotiation())


def test_it_is_the_apis_negotiation(alice_api):
    response = alice_api.get("/api/auth/me")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert type(response.renderer_context["view"].get_content_negotiator()) is ContentNegotiation
