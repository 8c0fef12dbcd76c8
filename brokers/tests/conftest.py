"""Fixtures shared by the brokers tests."""

from __future__ import annotations

import pytest
from django.test.utils import override_settings


@pytest.fixture
def sandbox(tastytrade_sandbox):
    """The Tastytrade sandbox, with the product's API, authorize and redirect URLs on it."""
    with override_settings(
        TASTYTRADE_API_BASE_URL=tastytrade_sandbox.base_url,
        TASTYTRADE_AUTHORIZE_URL=tastytrade_sandbox.authorize_url,
        TASTYTRADE_REDIRECT_URI=tastytrade_sandbox.config.redirect_uris[0],
    ):
        yield tastytrade_sandbox
