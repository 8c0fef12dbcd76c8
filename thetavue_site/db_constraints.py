"""Migration helpers for rules Django 5.2 keeps in Python but we want in the database."""

from __future__ import annotations

from django.db import migrations


def _replace_fk_sql(table: str, column: str, target: str, target_column: str, action: str) -> str:
    name = f"{table}_{column}_fk"
    # Identifiers come from migration code, never from input.
    return f"""
DO $$
DECLARE existing text;
BEGIN
  FOR existing IN
    SELECT con.conname FROM pg_constraint con
    JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
    WHERE con.conrelid = '{table}'::regclass AND con.contype = 'f' AND att.attname = '{column}'
  LOOP
    EXECUTE format('ALTER TABLE {table} DROP CONSTRAINT %I', existing);
  END LOOP;
END $$;
ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column})
  REFERENCES {target} ({target_column}) {action} DEFERRABLE INITIALLY DEFERRED;
"""


def on_delete_in_database(
    table: str, column: str, target: str, target_column: str, action: str
) -> migrations.RunSQL:
    """Recreate a foreign key so the database itself enforces ON DELETE `action`.

    Django emulates CASCADE and SET NULL in Python; a row deleted by raw SQL,
    psql or another service must still take its children with it.
    """
    return migrations.RunSQL(
        sql=_replace_fk_sql(table, column, target, target_column, f"ON DELETE {action}"),
        reverse_sql=_replace_fk_sql(table, column, target, target_column, ""),
    )
