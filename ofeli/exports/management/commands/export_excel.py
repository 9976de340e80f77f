from ofeli.exports.commands import ExportCommand
from ofeli.exports.excel import write_excel


class Command(ExportCommand):
    help = (
        "Exporte les formations en Excel (.xlsx) : une feuille « Formations », une feuille « Actions et sessions ». "
        "Sans filtre : toutes les formations, dans tous les états."
    )

    def handle(self, *args, **options):
        queryset = self.queryset(options)
        stats = self.write_atomically(options["output"], lambda path: write_excel(path, queryset))
        self.stdout.write(
            self.style.SUCCESS(f"{options['output']} : {stats.formations} formation(s), {stats.sessions} session(s).")
        )
