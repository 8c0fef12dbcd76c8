"""No script, style or font from anywhere but this server; no inline script (CSP)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.world import page_urls

pytestmark = pytest.mark.django_db

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)
LINKED = re.compile(r'<(?:link|script|img)\b[^>]*\b(?:href|src)="([^"]+)"')


def pages(client, world):
    for url in [*page_urls(world).values(), "/privacy/"]:
        yield url, client.get(url).content.decode()


def test_every_script_is_a_file_and_nothing_is_inline(alice_client, alice_world):
    for url, content in pages(alice_client, alice_world):
        scripts = SCRIPT.findall(content)
        assert scripts, url
        for attributes, body in scripts:
            assert 'src="/static/' in attributes, (url, attributes)
            assert not body.strip(), (url, body[:80])
        assert not re.search(r"<[^>]+\son(click|load|submit|change)=", content), url


def test_assets_come_from_static_only(alice_client, alice_world, client):
    for url, content in [*pages(alice_client, alice_world), ("/accounts/login/", "")]:
        if not content:
            content = client.get(url).content.decode()
        for target in LINKED.findall(content):
            assert target.startswith("/static/"), (url, target)


def test_htmx_comes_from_django_htmx(alice_client):
    content = alice_client.get("/").content.decode()
    assert 'src="/static/django_htmx/htmx-2.min.js"' in content


def test_production_serves_hashed_static_names(alice_client, alice_world, tmp_path):
    # given: collectstatic with WhiteNoise's manifest storage, as production runs it
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())
        content = alice_client.get("/").content.decode()
    # then: every asset the page links carries a content hash in its name
    targets = LINKED.findall(content)
    assert len(targets) >= 4  # favicon, stylesheet, htmx, our script
    for target in targets:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", target), target
