"""Benchmark of the OF's spreadsheet import: analysis (the preview) and import of N rows, time and peak memory.

Usage (use a dedicated database: the benchmark creates an organisme and its formations):

    DATABASE_URL=sqlite:////tmp/bench-tableur.sqlite3 .venv/bin/python bench/bench_tableur.py --lignes 10000 --migrate

The workbook holds N rows in the export's layout: one formation row for every 9 session rows (N/10 formations,
9N/10 sessions), with real dates, codes and places, and 1 % of rows in error (unknown Formacode, bad date). It is
analysed then imported by the same functions as the background jobs (ofeli.tableur.services.import_analyser and
import_executer), in this process. Throughput is wall-clock (database time included), CPU time beside it since the
machine may be shared; peak memory is the process's VmHWM. Figures are printed, not stored: docs/performance.md
keeps the ones the team records.
"""

import argparse
import datetime
import io
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ofeli.settings")

from memoire import pic_memoire_mo as _rss_mb  # noqa: E402


def classeur(lignes: int, lieu: str) -> bytes:
    import xlsxwriter

    from ofeli.exports.excel import COLONNES_FORMATIONS, COLONNES_SESSIONS, FEUILLE_FORMATIONS, FEUILLE_SESSIONS

    nb_formations = max(1, lignes // 10)
    nb_sessions = lignes - nb_formations
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    date = workbook.add_format({"num_format": "dd/mm/yyyy"})
    f_entetes = [c.entete for c in COLONNES_FORMATIONS]
    s_entetes = [c.entete for c in COLONNES_SESSIONS]
    feuille = workbook.add_worksheet(FEUILLE_FORMATIONS)
    feuille.write_row(0, 0, f_entetes)
    col = {e: i for i, e in enumerate(f_entetes)}
    for n in range(nb_formations):
        ligne = n + 1
        feuille.write_string(ligne, col["Identifiant dans la source"], f"BENCH-{n}")
        feuille.write_string(ligne, col["Intitulé"], f"Formation de soudage n° {n}")
        feuille.write_string(ligne, col["Certifiante"], "Non")
        feuille.write_string(ligne, col["Formacodes"], "99999" if n % 100 == 7 else "22454")
        feuille.write_string(ligne, col["Objectif"], "Maîtriser le soudage à l'arc. " * 5)
        feuille.write_string(ligne, col["Résultats attendus"], "Une soudure conforme.")
        feuille.write_string(ligne, col["Contenu"], "Sécurité, procédés, travaux pratiques. " * 10)
    feuille = workbook.add_worksheet(FEUILLE_SESSIONS)
    feuille.write_row(0, 0, s_entetes)
    col = {e: i for i, e in enumerate(s_entetes)}
    debut0 = datetime.datetime(2027, 1, 4)
    for n in range(nb_sessions):
        ligne = n + 1
        debut = debut0 + datetime.timedelta(days=7 * (n // nb_formations))  # distinct sessions of a formation
        feuille.write_string(ligne, col["Identifiant source de la formation"], f"BENCH-{n % nb_formations}")
        if n % 100 == 13:
            feuille.write_string(ligne, col["Date de début"], "31/02/2027")
        else:
            feuille.write_datetime(ligne, col["Date de début"], debut, date)
        feuille.write_datetime(ligne, col["Date de fin"], debut + datetime.timedelta(days=60), date)
        feuille.write_string(ligne, col["Rythme"], "Temps plein")
        feuille.write_string(ligne, col["Publics visés (Formacode)"], "83056")
        feuille.write_string(ligne, col["Lieux de formation"], lieu)
        feuille.write_number(ligne, col["Durée totale (heures)"], 350)
        feuille.write_number(ligne, col["Prix total TTC (€)"], 4200.5)
    workbook.close()
    return output.getvalue()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lignes", type=int, default=10_000)
    parser.add_argument("--migrate", action="store_true", help="migrate the database first")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    if args.migrate:
        call_command("migrate", verbosity=0)
    from ofeli.accounts.models import User
    from ofeli.exports.excel import adresse_lieu
    from ofeli.offre.models import Formation, Session
    from ofeli.organismes.models import Contact, Lieu, Organisme
    from ofeli.referentiels.models import Formacode
    from ofeli.tableur import services
    from ofeli.tableur.models import ImportTableur

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tempfile.mkdtemp()},
        },
    }
    Formacode.objects.get_or_create(code="22454", defaults={"libelle": "Soudage"})
    stamp = int(time.time())
    organisme = Organisme.objects.create(
        raison_sociale=f"Banc d'essai {stamp}",
        siret=f"{stamp:014d}"[-14:],
        nda=f"24{stamp % 10**9:09d}",
        ligne1="1 rue",
        code_postal="45000",
        ville="Orléans",
        departement="45",
        region="24",
    )
    user = User.objects.create_user(email=f"bench{stamp}@exemple.fr", password=None)
    Contact.objects.create(user=user, organisme=organisme, peut_saisir=True)
    lieu = Lieu.objects.create(
        organisme=organisme,
        denomination="Atelier",
        ligne1="10 avenue",
        code_postal="18000",
        ville="Bourges",
        departement="18",
        region="24",
    )
    data = classeur(args.lignes, adresse_lieu(lieu))
    imp = ImportTableur(organisme=organisme, user=user, nom_fichier="bench.xlsx", taille=len(data), sha256="0" * 64)
    imp.fichier.save("bench.xlsx", ContentFile(data), save=False)
    imp.save()

    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}")
    print(f"Database: {settings.DATABASES['default']['ENGINE']}")
    print(f"Workbook: {args.lignes} rows ({len(data) / 1e6:.1f} MB)")
    for phase, fonction in (("analysis", services.import_analyser), ("import", services.import_executer)):
        if phase == "import":
            ImportTableur.objects.filter(pk=imp.pk).update(statut=ImportTableur.Statut.IMPORT_EN_ATTENTE)
        debut, cpu = time.perf_counter(), time.process_time()
        resultat = fonction(imp.pk)
        duree, cpu = time.perf_counter() - debut, time.process_time() - cpu
        print(
            f"{phase:9s}: {duree:7.1f} s wall ({cpu:.1f} s CPU), {args.lignes / duree:6.0f} rows/s, "
            f"status {resultat.get_statut_display()}, valid {resultat.lignes_valides}, in error "
            f"{resultat.lignes_en_erreur}, peak RSS {_rss_mb():.0f} MB"
        )
    print(
        f"Created: {Formation.objects.filter(organisme=organisme).count()} formations, "
        f"{Session.objects.filter(action__formation__organisme=organisme).count()} sessions (drafts)"
    )


if __name__ == "__main__":
    main()
