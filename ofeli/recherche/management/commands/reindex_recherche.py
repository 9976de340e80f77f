from django.core.management.base import BaseCommand

from ofeli.recherche.index import indexer_formations, reindexer_tout


class Command(BaseCommand):
    help = (
        "Reconstruit les documents de recherche des formations (toutes, ou celles dont les identifiants sont donnés)."
    )

    def add_arguments(self, parser):
        parser.add_argument("formation_ids", nargs="*", type=int, help="identifiants de formations (toutes si absent)")
        parser.add_argument("--batch", type=int, default=2000, help="formations par transaction")

    def handle(self, *args, formation_ids, batch, **options):
        if formation_ids:
            total = indexer_formations(formation_ids)
        else:

            def progress(done, count):
                self.stdout.write(f"{done}/{count}")

            total = reindexer_tout(batch=batch, progress=progress if options["verbosity"] > 1 else None)
        self.stdout.write(self.style.SUCCESS(f"{total} formation(s) indexée(s)."))
