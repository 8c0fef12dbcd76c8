"""docker-compose.yml, Dockerfile and Procfile name real services and real paths.

Docker is not available here, so the files are parsed and cross-checked instead.
"""

from __future__ import annotations

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
