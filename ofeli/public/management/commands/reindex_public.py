"""manage.py reindex_public: rebuilds the public site's search documents from the current publications."""

from django.core.management.base import BaseCommand

from ofeli.public.index import reindexer_public


class Command(BaseCommand):
    help = "Reconstruit l'index de recherche du site public à partir des publications courantes."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, help="Publications par transaction (500).")

    def handle(self, *args, batch, **options):
        def progress(fait, total):
            if options["verbosity"] > 1:
                self.stdout.write(f"{fait}/{total}")

        total = reindexer_public(batch=batch, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"{total} formation(s) publiée(s) indexée(s)."))
