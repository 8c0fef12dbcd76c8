"""`make lint` holds the import arrows: a backwards import breaks lint-imports.

The product's packages are copied to a temporary directory and checked there
with the real contracts from pyproject.toml, once as they are (kept) and once
with one import added that points up the layers (broken).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["thetavue_site", "portfolios", "metrics", "tradeplans", "brokers", "tastytrade_sandbox"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - a fixed command on a copied tree
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_product_keeps_every_contract(tree):
    result = _lint_imports(tree)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "backwards_import", "contract"),
    [
        # portfolios sits below brokers.
        ("portfolios/models.py", "import brokers.models", "Apps in layers"),
        # the site sits below every domain app.
        ("thetavue_site/rls.py", "import tradeplans.selectors", "Apps in layers"),
        # models sit below services inside an app.
        ("metrics/models.py", "import metrics.services", "Inside each app"),
        # pure domain modules take values and arrays.
        ("metrics/greeks.py", "import django", "Pure domain modules"),
        # the sandbox is a separate development tool.
        ("tastytrade_sandbox/clock.py", "import portfolios.symbols", "The Tastytrade sandbox"),
        # a cycle between two modules of one package.
        ("brokers/token_crypto.py", "import brokers.tokens", "No import cycles"),
    ],
)
def test_a_backwards_import_breaks_lint(tree, module, backwards_import, contract):
    path = tree / module
    path.write_text(path.read_text() + f"\n{backwards_import}  # noqa\n")

    result = _lint_imports(tree)

    assert result.returncode != 0
    assert "1 broken" in result.stdout, result.stdout
    _, broken = result.stdout.split("Broken contracts")
    assert contract in broken
    # The report names the imported module (relative to its package for cycles).
    assert backwards_import.split()[-1].rsplit(".", 1)[-1] in broken
