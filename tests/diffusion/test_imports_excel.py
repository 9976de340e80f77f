"""Issue 7: `import_offre` and the staff screen read the export's Excel layout; one import at a time per source."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from ofeli.diffusion import imports
from ofeli.diffusion.models_imports import ImportRun
from ofeli.exports.excel import write_excel
from ofeli.offre.models import Etat, Formation, Session, Source
from tests.factories import siret_valide
from tests.tableur.classeurs import classeur

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stockage_prive(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }


SIRET = siret_valide(42)


def _formation(ref, **autres):
    return {
        "Identifiant dans la source": ref,
        "Intitulé": f"Formation {ref}",
        "Organisme": "Lycée des métiers",
        "SIRET": SIRET,
        "Certifiante": "Non",
        "Objectif": "Objectif",
        "Résultats attendus": "Résultats",
        "Contenu": "Contenu",
        "Niveau d'entrée": "Niveau 3 (CAP, BEP)",
        **autres,
    }


def _session(formation_ref, ref, debut=datetime.date(2026, 9, 1), fin=datetime.date(2027, 6, 30), **autres):
    return {
        "Identifiant source de la formation": formation_ref,
        "Identifiant source de l'action": f"A-{ref}",
        "Identifiant source de la session": ref,
        "Date de début": debut,
        "Date de fin": fin,
        "Rythme": "Temps plein",
        "Publics visés (Formacode)": "15084",
        "Lieux de formation": "Lycée, 1 rue Jeanne d'Arc, 45000 Orléans",
        "Prix total TTC (€)": 1500.5,
        **autres,
    }


def _fichier(tmp_path, data: bytes, nom="apprentissage.xlsx"):
    path = tmp_path / nom
    path.write_bytes(data)
    return path


def _lancer(path, source="apprentissage"):
    out = io.StringIO()
    call_command("import_offre", str(path), "--source", source, stdout=out)
    return out.getvalue()


def test_the_command_reads_the_excel_layout_matches_by_source_ids_and_reports_bad_rows(tmp_path):
    data = classeur(
        [_formation("F1"), _formation("F2"), _formation("F3", SIRET="123")],
        [
            _session("F1", "S1"),
            _session("F1", "S2", debut=datetime.date(2027, 1, 4)),
            _session("F2", "S3", debut="31/02/2026"),
            _session("F3", "S4"),
            _session("F9", "S5"),
        ],
    )
    sortie = _lancer(_fichier(tmp_path, data))
    run = ImportRun.objects.get()
    assert (run.statut, run.crees, run.rejetees) == (ImportRun.Statut.TERMINE, 1, 3)
    motifs = {r.identifiant: r.motif for r in run.rejets.all()}
    assert "« 31/02/2026 » n'est pas une date" in motifs["F2"] and "ligne 4" in motifs["F2"]
    assert "sans SIRET valide" in motifs["F3"]
    assert "n'est pas dans la feuille « Formations »" in motifs["F9"]
    assert "Rejet F2" in sortie
    formation = Formation.objects.get(source=Source.APPRENTISSAGE, source_ref="F1")
    assert formation.etat == Etat.EN_ATTENTE and formation.organisme.siret == SIRET
    sessions = Session.objects.filter(action__formation=formation).order_by("debut")
    assert [s.source_ref for s in sessions] == ["S1", "S2"]
    assert sessions[0].action.lieux.get().ville == "Orléans"
    assert str(sessions[0].action.prix_total_ttc) == "1500.50"

    # The same file again changes nothing.
    _lancer(_fichier(tmp_path, data))
    second = ImportRun.objects.latest("pk")
    assert (second.crees, second.mises_a_jour, second.inchangees, second.rejetees) == (0, 0, 1, 3)
    assert Session.objects.count() == 2


def test_an_excel_export_of_imported_offer_imports_back_unchanged(tmp_path):
    """Round trip of the layout: import, export what was imported, import the export: nothing changes."""
    data = classeur(
        [_formation("F1", Formacodes="", NSF=""), _formation("F2")],
        [_session("F1", "S1"), _session("F2", "S2"), _session("F2", "S3", debut=datetime.date(2026, 10, 5))],
    )
    _lancer(_fichier(tmp_path, data))
    assert Session.objects.count() == 3
    export = io.BytesIO()
    write_excel(export, Formation.objects.filter(source=Source.APPRENTISSAGE))
    _lancer(_fichier(tmp_path, export.getvalue(), "export.xlsx"))
    run = ImportRun.objects.latest("pk")
    assert (run.crees, run.mises_a_jour, run.inchangees, run.rejetees) == (0, 0, 2, 0)


def test_a_file_that_is_neither_lheo_nor_excel_is_refused(tmp_path):
    path = _fichier(tmp_path, b"PK\x03\x04 pas vraiment un zip", "faux.xlsx")
    with pytest.raises(CommandError, match="illisible ou endommagé"):
        _lancer(path)
    assert not Formation.objects.exists()


def test_a_second_import_of_the_same_source_is_refused_while_the_first_runs(tmp_path):
    premier = _fichier(tmp_path, classeur([_formation("F1")], [_session("F1", "S1")]), "premier.xlsx")
    second = _fichier(tmp_path, classeur([_formation("F2")], [_session("F2", "S2")]), "second.xlsx")
    autre_source = _fichier(tmp_path, classeur([_formation("F3")], [_session("F3", "S3")]), "scolaire.xlsx")
    run = imports.import_creer(source="apprentissage", chemin=str(premier))
    pendant = {}

    def au_milieu(position):
        concurrent = imports.import_creer(source="apprentissage", chemin=str(second))
        pendant["refus"] = imports.import_executer(run=concurrent)
        pendant["autre"] = imports.import_executer(
            run=imports.import_creer(source="scolaire", chemin=str(autre_source))
        )

    imports.import_executer(run=run, apres_formation=au_milieu)
    refus = pendant["refus"]
    assert refus.statut == ImportRun.Statut.ERREUR
    assert f"est déjà en cours (import n° {run.pk}" in refus.message and "un seul import à la fois" in refus.message
    assert pendant["autre"].statut == ImportRun.Statut.TERMINE  # another source is not blocked
    run.refresh_from_db()
    assert (run.statut, run.crees) == (ImportRun.Statut.TERMINE, 1)
    assert not Formation.objects.filter(source_ref="F2").exists()
    # Once the first is over, the refused one runs.
    assert imports.import_executer(run=refus).statut == ImportRun.Statut.TERMINE
    assert Formation.objects.filter(source_ref="F2").exists()


def test_the_database_itself_refuses_two_running_imports_of_one_source():
    ImportRun.objects.create(source="eos", nom_fichier="a.xml", sha256="a", statut=ImportRun.Statut.EN_COURS)
    with pytest.raises(IntegrityError), transaction.atomic():
        ImportRun.objects.create(source="eos", nom_fichier="b.xml", sha256="b", statut=ImportRun.Statut.EN_COURS)
    ImportRun.objects.create(source="afc", nom_fichier="c.xml", sha256="c", statut=ImportRun.Statut.EN_COURS)


def test_a_run_silent_for_too_long_no_longer_blocks_its_source(tmp_path, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC))
    mort = ImportRun.objects.create(source="apprentissage", nom_fichier="a.xlsx", sha256="a")
    ImportRun.objects.filter(pk=mort.pk).update(
        statut=ImportRun.Statut.EN_COURS, battement=datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
    )
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC))
    path = _fichier(tmp_path, classeur([_formation("F1")], [_session("F1", "S1")]))
    run = imports.import_executer(run=imports.import_creer(source="apprentissage", chemin=str(path)))
    assert run.statut == ImportRun.Statut.TERMINE
    mort.refresh_from_db()
    assert mort.statut == ImportRun.Statut.ERREUR and "interrompu" in mort.message
