import io
from unittest import mock

import openpyxl
import pytest
from django.core.files.storage import default_storage

from ofeli.exports.models import Export
from ofeli.exports.services import export_construire, export_creer, formations_du_contexte, requete_pour
from ofeli.offre.models import Etat, Formation
from tests.factories import FormationFactory, OrganismeFactory, SessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def offre(organisme):
    for etat in (Etat.VALIDEE, Etat.BROUILLON):
        SessionFactory(action__formation=FormationFactory(organisme=organisme, etat=etat))
    SessionFactory(action__formation=FormationFactory(organisme=OrganismeFactory()))


def _export(contact, **kwargs):
    return Export.objects.create(user=contact.user, organisme=contact.organisme, **kwargs)


def test_an_excel_export_is_built_in_private_storage_with_its_counts(lecteur, offre):
    export = export_construire(_export(lecteur, format="excel").pk)
    assert export.statut == Export.Statut.PRET
    assert (export.total, export.traitees, export.nb_formations, export.nb_sessions) == (2, 2, 2, 2)
    assert export.started_at and export.finished_at and export.taille > 0
    assert export.fichier.name.startswith("exports/")
    with default_storage.open(export.fichier.name, "rb") as handle:
        workbook = openpyxl.load_workbook(io.BytesIO(handle.read()))
    assert workbook["Formations"].max_row == 3


def test_building_is_idempotent(lecteur, offre):
    export = export_construire(_export(lecteur, format="lheo").pk)
    fichier = export.fichier.name
    again = export_construire(export.pk)
    assert again.statut == Export.Statut.PRET and again.fichier.name == fichier


def test_a_background_export_of_a_search_applies_the_criteria_and_the_scope(lecteur, offre):
    from ofeli.recherche.index import indexer_formations

    indexer_formations(Formation.objects.values_list("pk", flat=True))
    export = export_construire(_export(lecteur, format="lheo", params={"etat": ["validee"]}).pk)
    assert export.statut == Export.Statut.PRET, export.erreur
    assert export.nb_formations == 1


def test_failures_are_recorded_in_french(lecteur, offre):
    empty = export_construire(_export(lecteur, format="lheo", params={"etat": ["en_attente"]}).pk)
    assert empty.statut == Export.Statut.ECHEC
    assert "Aucune formation" in empty.erreur
    bad = export_construire(_export(lecteur, format="excel", params={"debut_apres": "demain"}).pk)
    assert bad.statut == Export.Statut.ECHEC and bad.erreur
    with mock.patch("ofeli.exports.services.write_excel", side_effect=OSError("disque plein")):
        broken = export_construire(_export(lecteur, format="excel").pk)
    assert broken.statut == Export.Statut.ECHEC
    assert broken.erreur.startswith("L'export n'a pas pu être écrit sur le serveur")


def test_the_job_is_enqueued_only_on_commit(lecteur, offre, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        export = export_creer(user=lecteur.user, organisme=lecteur.organisme, format="excel", params={})
    assert Export.objects.get(pk=export.pk).statut == Export.Statut.EN_ATTENTE
    assert len(callbacks) == 1
    callbacks[0]()
    export.refresh_from_db()
    assert export.statut == Export.Statut.PRET


def test_the_background_request_keeps_the_authors_scope(lecteur, offre):
    request = requete_pour(_export(lecteur, format="excel"))
    queryset, errors = formations_du_contexte(request, request.GET)
    assert not errors
    assert set(queryset.values_list("organisme", flat=True)) == {lecteur.organisme_id}


def test_files_are_kept_in_private_storage(lecteur, offre, private_storage):
    export = export_construire(_export(lecteur, format="excel").pk)
    assert (private_storage / export.fichier.name).is_file()
