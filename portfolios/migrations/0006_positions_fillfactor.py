# Written by hand: a storage parameter, no model state changes.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('portfolios', '0005_portfolio_spy_price'),
    ]

    # Every sync rewrites the marks and greeks of every leg it holds. Half of
    # each page left free lets the new version of each row stay on the same page
    # (a HOT update: no new entry in any of the four indexes), and page pruning
    # frees the old versions again before the next sync.
    operations = [
        migrations.RunSQL(
            sql="ALTER TABLE positions SET (fillfactor = 50)",
            reverse_sql="ALTER TABLE positions RESET (fillfactor)",
        ),
    ]
