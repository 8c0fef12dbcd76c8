"""The app's database role cannot bypass Row Level Security."""

import pytest
from django.core.checks import run_checks

from thetavue_site.checks import database_role_flags


@pytest.mark.django_db
def test_connected_role_is_neither_superuser_nor_bypassrls():
    role, is_super, bypass = database_role_flags()
    assert (is_super, bypass) == (False, False), role


@pytest.mark.django_db
def test_system_check_passes_for_the_app_role():
    errors = [e for e in run_checks(databases=["default"]) if e.id.startswith("thetavue.")]
    assert errors == []
