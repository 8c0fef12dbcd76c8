"""Fill exercise_style on stored option legs from the table in metrics.exercise."""

from django.db import migrations

OPTIONS = ("Equity Option", "Future Option")


def fill_exercise_style(apps, schema_editor):
    from metrics.exercise import exercise_style

    Position = apps.get_model("portfolios", "Position")
    # positions has FORCE ROW LEVEL SECURITY: the owner role sees rows only as the service.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.service', 'on', true)")
    legs = Position.objects.filter(instrument_type__in=OPTIONS, exercise_style="").only(
        "id", "symbol", "underlying_symbol", "instrument_type", "exercise_style"
    )
    changed = []
    for leg in legs.iterator(chunk_size=2000):
        parts = leg.symbol.split()
        if leg.instrument_type == "Equity Option":
            root = parts[0] if parts else ""
        else:  # "./ESZ4 EW3U4 240920P5650": the option product precedes month and year
            root = parts[1][:-2] if len(parts) > 2 and len(parts[1]) > 2 else ""
        leg.exercise_style = exercise_style(
            instrument_type=leg.instrument_type,
            underlying_symbol=leg.underlying_symbol,
            root=root,
        )
        changed.append(leg)
    Position.objects.bulk_update(changed, ["exercise_style"], batch_size=2000)


def clear_exercise_style(apps, schema_editor):
    Position = apps.get_model("portfolios", "Position")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.service', 'on', true)")
    Position.objects.exclude(exercise_style="").update(exercise_style="")


class Migration(migrations.Migration):
    dependencies = [("portfolios", "0007_positions_exercise_style_rho_iv_rank")]

    operations = [migrations.RunPython(fill_exercise_style, clear_exercise_style)]
