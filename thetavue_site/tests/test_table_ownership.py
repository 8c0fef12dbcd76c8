"""Each app writes only its own tables (DESIGN.md §2): a scan of the product's modules.

The owner of a table is the app whose models.py declares it (allauth's and
Django's auth tables belong to the users app, which wraps sign-in). A module
writes another app's table when it

- calls a write method (`create`, `update`, `delete`, `bulk_create`, `save`, …)
  on a chain that starts at another app's model class (`Position.objects
  .filter(…).update(…)`, `Portfolio(…).save()`), or
- holds SQL that runs `UPDATE`, `INSERT INTO`, `DELETE FROM` or `TRUNCATE`
  on another app's table.

What a scan cannot see is a write through an instance held in a variable
(`portfolio.save()`); the owning app's services are where those live, and
review keeps them there. Cross-app effects go through the owning app's
service instead. Tests and migrations are outside the rule: a test may set up
any app's rows.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
# Most specific first: thetavue_site.users is an app inside the site package.
APPS = ("thetavue_site.users", "portfolios", "metrics", "tradeplans", "brokers", "thetavue_site")
# Third-party models an app of ours owns: sign-in belongs to the users app.
THIRD_PARTY_OWNERS = {
    "allauth": "thetavue_site.users",
    "django.contrib.auth": "thetavue_site.users",
}
WRITE_METHODS = frozenset(
    {
        "create",
        "bulk_create",
        "bulk_update",
        "update",
        "delete",
        "get_or_create",
        "update_or_create",
        "save",
        "create_user",
        "create_superuser",
    }
)
# Upper-case keywords (the code's SQL style; prose such as "Update positions
# in one statement" is not SQL), with ONLY, a schema and quotes allowed:
# `UPDATE ONLY public."positions"`.
SQL_WRITE = re.compile(
    r"\b(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+(?:ONLY\s+)?"
    r'(?:"?\w+"?\.)?"?(\w+)"?'
)


def app_of(module: str) -> str | None:
    for app in APPS:
        if module == app or module.startswith(app + "."):
            return app
    for prefix, owner in THIRD_PARTY_OWNERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return owner
    return None


def model_owners() -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """Return (models module, class name) → owning app, and table → owning app."""
    by_class: dict[tuple[str, str], str] = {}
    by_table: dict[str, str] = {}
    for model in apps.get_models(include_auto_created=True):
        owner = app_of(model.__module__)
        if owner is None:
            continue
        by_class[(model.__module__, model.__name__)] = owner
        by_table[model._meta.db_table] = owner
    return by_class, by_table


def _root_name(node: ast.AST) -> str | None:
    """The name a call chain starts from: `A.objects.filter(…).update` → "A"."""
    while True:
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return node.id if isinstance(node, ast.Name) else None


def _strings(tree: ast.AST) -> list[str]:
    """String constants (f-string parts included), docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def foreign_writes(source: str, *, app: str, by_class: dict, by_table: dict) -> list[str]:
    """Return a description of each write `source` (a module of `app`) makes to another app."""
    tree = ast.parse(source)
    models: dict[str, str] = {}  # local name → owning app, for imported model classes
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                owner = by_class.get((node.module, alias.name))
                if owner is not None:
                    models[alias.asname or alias.name] = owner
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITE_METHODS
        ):
            name = _root_name(node.func.value)
            owner = models.get(name)
            if owner is not None and owner != app:
                found.append(f"line {node.lineno}: {name}….{node.func.attr}() writes {owner}")
    for text in _strings(tree):
        for table in SQL_WRITE.findall(text):
            owner = by_table.get(table)
            if owner is not None and owner != app:
                found.append(f"SQL writes {table} ({owner})")
    return found


def product_modules():
    for package in ("thetavue_site", "portfolios", "metrics", "tradeplans", "brokers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if {"tests", "migrations"} & set(relative.parts):
                continue
            module = ".".join(relative.with_suffix("").parts)
            yield module, path.read_text()


def test_no_module_writes_another_apps_tables():
    by_class, by_table = model_owners()
    offenders = {}
    for module, source in product_modules():
        found = foreign_writes(source, app=app_of(module), by_class=by_class, by_table=by_table)
        if found:
            offenders[module] = found
    assert offenders == {}


def test_the_scan_knows_every_product_table():
    _, by_table = model_owners()
    assert {
        "users": "thetavue_site.users",
        "notifications": "thetavue_site.users",
        "portfolios": "portfolios",
        "positions": "portfolios",
        "historical_metrics": "metrics",
        "trade_plans": "tradeplans",
        "broker_connections": "brokers",
        "sync_runs": "brokers",
    }.items() <= by_table.items()


def test_the_scan_sees_a_write_to_another_apps_table():
    by_class, by_table = model_owners()

    def scan(source: str, app: str = "metrics") -> list[str]:
        return foreign_writes(source, app=app, by_class=by_class, by_table=by_table)

    orm = (
        "from portfolios.models import Portfolio, Position as Leg\n"
        "def f(pk):\n"
        "    Leg.objects.filter(portfolio_id=pk).update(delta=None)\n"
        "    Portfolio(name='x').save()\n"
        "    Portfolio.objects.select_for_update().filter(pk=pk).first()\n"
    )
    assert scan(orm) == [
        "line 3: Leg….update() writes portfolios",
        "line 4: Portfolio….save() writes portfolios",
    ]
    assert scan(orm, app="portfolios") == []  # its own tables
    sql = 'WRITE = f"""\nUPDATE positions p SET delta = v.delta FROM {x}"""\n'
    assert scan(sql) == ["SQL writes positions (portfolios)"]
    deleted = "SQL = 'DELETE FROM public.\"positions\" WHERE id = %s'"
    updated = "SQL = 'UPDATE ONLY \"portfolios\" SET name = %s'"
    assert scan(deleted) == ["SQL writes positions (portfolios)"]
    assert scan(updated) == ["SQL writes portfolios (portfolios)"]
    assert scan('SQL = "INSERT INTO historical_metrics (date) VALUES (%s)"') == []
    assert scan('"""Update positions in one statement."""') == []  # prose, not SQL
    allauth = "from allauth.account.models import EmailAddress\nEmailAddress.objects.create()\n"
    assert scan(allauth, app="brokers") == [
        "line 2: EmailAddress….create() writes thetavue_site.users"
    ]
