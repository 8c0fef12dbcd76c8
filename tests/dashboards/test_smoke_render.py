import pytest

from tests.dashboards.conftest import page_urls

pytestmark = pytest.mark.django_db


def test_render_all(alice_client, alice_world):
    for name, url in page_urls(alice_world).items():
        response = alice_client.get(url)
        assert response.status_code == 200, (name, response.content[:3000])
