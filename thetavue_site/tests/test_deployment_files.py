"""docker-compose.yml, Dockerfile and Procfile name real services and real paths.

Docker is not available here, so the files are parsed and cross-checked instead.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import yaml
from django.conf import settings
from django.utils.module_loading import import_string

ROOT = Path(settings.BASE_DIR)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_names_the_services():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)


def test_web_runs_gunicorn_and_worker_and_beat_share_its_image():
    services = compose()["services"]
    assert services["web"]["command"][0] == "gunicorn"
    assert services["web"]["command"][1] == "thetavue_site.wsgi:application"
    assert services["worker"]["command"][:4] == ["celery", "-A", "thetavue_site", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "thetavue_site", "beat"]
    images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert images == {"thetavue:latest"}


def test_application_role_is_not_superuser():
    services = compose()["services"]
    app_url = services["web"]["environment"]["DATABASE_URL"]
    assert app_url.startswith("postgres://thetavue:")
    assert services["postgres"]["environment"]["POSTGRES_USER"] != "thetavue"
    init = (ROOT / "deploy" / "postgres-init.sh").read_text()
    role = re.search(r"CREATE ROLE thetavue (.*?);", init).group(1)
    assert "NOSUPERUSER" in role and "NOBYPASSRLS" in role
    assert "NOCREATEROLE" in role and "NOCREATEDB" in role


def test_only_migrate_logs_in_as_the_owner_role_which_owns_the_database():
    services = compose()["services"]
    owner_url = services["migrate"]["environment"]["DATABASE_OWNER_URL"]
    assert owner_url.startswith("postgres://thetavue_owner:")
    assert (
        owner_url.rsplit("/", 1)[1]
        == services["web"]["environment"]["DATABASE_URL"].rsplit("/", 1)[1]
    )
    for name in ("web", "worker", "beat"):
        assert "DATABASE_OWNER_URL" not in services[name]["environment"], name
    init = (ROOT / "deploy" / "postgres-init.sh").read_text()
    assert "CREATE DATABASE thetavue OWNER thetavue_owner;" in init
    owner = re.search(r"CREATE ROLE thetavue_owner (.*?);", init).group(1)
    assert "NOSUPERUSER" in owner and "NOBYPASSRLS" in owner


def test_paths_named_by_the_image_exist():
    services = compose()["services"]
    mounted = [v.split(":")[0] for v in services["postgres"]["volumes"] if v.startswith("./")]
    for path in mounted:
        assert (ROOT / path).exists(), path
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1)
    assert "deploy/gunicorn.conf.py" in cmd and (ROOT / "deploy" / "gunicorn.conf.py").exists()
    assert "COPY requirements.txt" in dockerfile and (ROOT / "requirements.txt").exists()


def test_wsgi_and_celery_app_import():
    assert import_string("thetavue_site.wsgi.application") is not None
    assert import_string("thetavue_site.celery.app").main == "thetavue"


def test_procfile_processes_point_at_real_modules():
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, command = line.split(":", 1)
        argv = shlex.split(command)
        assert argv[0] in {"gunicorn", "celery"}, name
        if argv[0] == "gunicorn":
            assert (ROOT / argv[argv.index("--config") + 1]).exists()


def _dockerignored() -> set[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_production_image_leaves_the_sandbox_out():
    """The sandbox is a development tool: `COPY . .` must not carry it into the image."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^COPY \. \.$", dockerfile, re.M)
    assert "tastytrade_sandbox" in _dockerignored()
    assert "tastytrade_sandbox" not in dockerfile


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


PRODUCT_PACKAGES = {"thetavue_site", "portfolios", "tradeplans", "brokers", "metrics", "django"}


def test_sandbox_imports_nothing_from_the_product():
    sources = [p for p in (ROOT / "tastytrade_sandbox").rglob("*.py") if "tests" not in p.parts]
    assert len(sources) > 10
    for path in sources:
        assert not (_top_level_imports(path) & PRODUCT_PACKAGES), path


def test_the_product_imports_the_sandbox_only_from_tests():
    for package in sorted(PRODUCT_PACKAGES - {"django"}):
        for path in (ROOT / package).rglob("*.py"):
            if "tests" in path.parts:
                continue
            assert "tastytrade_sandbox" not in _top_level_imports(path), path
