"""Fixtures for the dashboard tests: alice's and bob's worlds, and page URLs."""

from __future__ import annotations

import pytest

from tests.dashboards.books import make_world


@pytest.fixture
def alice_world(alice):
    return make_world(owner=alice, tag="Alicebook")


@pytest.fixture
def bob_world(bob):
    return make_world(owner=bob, tag="Bobbook")


def page_urls(world) -> dict[str, str]:
    """Every dashboard page that shows the world's data, by name."""
    return {
        "overview": "/",
        "portfolio": f"/portfolios/{world.portfolio.pk}/",
        "plans": "/plans/",
        "plan": f"/plans/{world.plan.pk}/",
        "connections": "/connections/",
        "account": "/account/",
        "notifications": "/notifications/",
    }
