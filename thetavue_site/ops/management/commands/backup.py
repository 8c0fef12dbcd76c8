"""`manage.py backup`: a pg_dump (custom format) with retention."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from thetavue_site.ops.backups import BackupError, backup_create


class Command(BaseCommand):
    help = "Dump the database to --dir (default .data/backups), keeping the newest --keep."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(Path(settings.BASE_DIR) / ".data" / "backups"))
        parser.add_argument("--keep", type=int, default=14)

    def handle(self, *args, dir, keep, **options):  # noqa: A002 - the option's name
        if keep < 1:
            raise CommandError("--keep must be at least 1")
        try:
            path = backup_create(directory=Path(dir), keep=keep)
        except BackupError as error:
            raise CommandError(f"backup failed: {error}") from None
        self.stdout.write(str(path))
