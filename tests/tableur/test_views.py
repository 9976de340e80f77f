"""The OF's spreadsheet import screens: model, deposit, preview, mapping, import, progress."""

import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ofeli.exports.excel import write_excel
from ofeli.offre.models import Etat, Formation, Session
from ofeli.tableur.models import Correspondance, ImportTableur
from tests.factories import ContactFactory, SessionFactory
from tests.tableur.classeurs import feuille_unique

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client_saisisseur(client, saisisseur):
    client.force_login(saisisseur.user)
    return client


def _deposer(client, data, django_capture_on_commit_callbacks, nom="offre.xlsx"):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("tableur:accueil"), {"fichier": SimpleUploadedFile(nom, data, XLSX)})
    return response


def test_the_model_has_instructions_allowed_values_and_drop_down_lists(client_saisisseur, lieux):
    response = client_saisisseur.get(reverse("tableur:modele"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["Formations", "Actions et sessions", "Instructions", "Valeurs autorisées"]
    assert workbook["Formations"]["A1"].value == "Identifiant OFeli"
    valeurs = workbook["Valeurs autorisées"]
    colonnes = {c.value: c.column_letter for c in valeurs[1]}
    lieux_colonne = [c.value for c in valeurs[colonnes["Lieux de formation de votre organisme"]][1:] if c.value]
    assert "Atelier de Bourges, 10 avenue des Champs, 18000 Bourges" in lieux_colonne
    dispositifs = [c.value for c in valeurs[colonnes["Dispositif"]][1:] if c.value]
    assert "Entreprise ou particulier" in dispositifs
    listes = {str(dv.sqref): dv.formula1 for dv in workbook["Actions et sessions"].data_validations.dataValidation}
    entetes = {c.value: c.column_letter for c in workbook["Actions et sessions"][1]}
    dispositif = entetes["Dispositif"]
    assert listes[f"{dispositif}2:{dispositif}10001"].startswith("'Valeurs autorisées'!$")
    assert "JJ/MM/AAAA" in " ".join(c.value or "" for c in workbook["Instructions"]["A"])


def test_the_model_can_hold_the_organisme_formations(client_saisisseur, organisme):
    SessionFactory(action__formation__organisme=organisme, action__formation__intitule="Ma formation")
    response = client_saisisseur.get(reverse("tableur:modele"), {"avec": "formations"})
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook["Formations"]["D2"].value == "Ma formation"


def test_deposit_preview_then_import_through_the_screens(
    client_saisisseur, organisme, referentiels, lieux, fichier_mixte, django_capture_on_commit_callbacks
):
    page = client_saisisseur.get(reverse("tableur:accueil"))
    assert "Aucun fichier déposé" in page.content.decode()
    response = _deposer(client_saisisseur, fichier_mixte, django_capture_on_commit_callbacks)
    imp = ImportTableur.objects.get()
    assert response.url == reverse("tableur:detail", args=[imp.pk])
    html = client_saisisseur.get(response.url).content.decode()
    assert "Importer les 5 lignes valides" in html
    assert "code Formacode inconnu : 99999" in html and "31/02/2027" in html
    assert "Soudage F1" not in html  # only the rows in error are shown

    with django_capture_on_commit_callbacks(execute=True):
        response = client_saisisseur.post(reverse("tableur:importer", args=[imp.pk]))
    html = client_saisisseur.get(response.url).content.decode()
    assert "Import terminé : 2 formations et 3 sessions créées en brouillon" in html
    assert Formation.objects.filter(organisme=organisme, etat=Etat.BROUILLON).count() == 2
    response = client_saisisseur.post(reverse("tableur:importer", args=[imp.pk]), follow=True)
    assert "déjà été lancé" in response.content.decode()
    assert Session.objects.count() == 3


def test_progress_is_polled_with_htmx_and_has_a_refresh_link(client_saisisseur, organisme, saisisseur):
    imp = ImportTableur.objects.create(
        organisme=organisme,
        user=saisisseur.user,
        nom_fichier="gros.xlsx",
        sha256="0" * 64,
        fichier="tableur/gros.xlsx",
        statut=ImportTableur.Statut.IMPORT,
        total=10000,
        traitees=2500,
    )
    html = client_saisisseur.get(reverse("tableur:detail", args=[imp.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in html and "Progression : 25 %" in html and "Actualiser la page" in html
    partiel = client_saisisseur.get(reverse("tableur:detail", args=[imp.pk]), HTTP_HX_REQUEST="true")
    assert partiel.content.decode().lstrip().startswith('<section id="tableur-progression"')


def test_a_non_xlsx_upload_gets_a_french_error_on_the_field(client_saisisseur, django_capture_on_commit_callbacks):
    response = _deposer(client_saisisseur, b"intitule;debut\n", django_capture_on_commit_callbacks, "offre.csv")
    assert response.status_code == 200
    assert "n&#x27;est pas un classeur Excel (.xlsx)" in response.content.decode()
    assert not ImportTableur.objects.exists()


def test_a_reader_may_not_import(client, lecteur):
    client.force_login(lecteur.user)
    assert client.get(reverse("tableur:accueil")).status_code == 403
    assert client.get(reverse("tableur:modele")).status_code == 403


def test_another_organisme_import_is_not_found(client, organisme, saisisseur):
    imp = ImportTableur.objects.create(
        organisme=organisme, nom_fichier="a.xlsx", sha256="0" * 64, fichier="tableur/a.xlsx"
    )
    autre = ContactFactory(peut_saisir=True)
    client.force_login(autre.user)
    assert client.get(reverse("tableur:detail", args=[imp.pk])).status_code == 404
    assert client.post(reverse("tableur:importer", args=[imp.pk])).status_code == 404


ENTETES_AUTRE_OUTIL = [
    "Titre du stage",
    "Objectifs",
    "Compétences visées",
    "Programme",
    "Début",
    "Fin",
    "Rythme",
    "Public",
]


def _ligne_autre_outil(titre, debut, fin="30/06/2027"):
    return [titre, "Objectif.", "Compétences.", "Programme.", debut, fin, "Temps plein", "83056"]


def test_a_file_from_another_tool_is_mapped_once_and_the_mapping_reused(
    client_saisisseur, organisme, referentiels, django_capture_on_commit_callbacks
):
    data = feuille_unique(
        ENTETES_AUTRE_OUTIL,
        [
            _ligne_autre_outil("Soudure MIG", "02/03/2027"),
            _ligne_autre_outil("Soudure MIG", "07/09/2027", "15/12/2027"),
            _ligne_autre_outil("Chaudronnerie", "lundi prochain"),
        ],
    )
    _deposer(client_saisisseur, data, django_capture_on_commit_callbacks, "stages.xlsx")
    imp = ImportTableur.objects.get()
    assert imp.statut == ImportTableur.Statut.CORRESPONDANCE
    page = client_saisisseur.get(reverse("tableur:correspondance", args=[imp.pk])).content.decode()
    assert "Titre du stage" in page and 'value="s:rythme" selected' in page  # same words: suggested

    correspondance = {
        "colonne_0": "f:intitule",
        "colonne_1": "f:objectif",
        "colonne_2": "f:resultats_attendus",
        "colonne_3": "f:contenu",
        "colonne_4": "s:debut",
        "colonne_5": "s:fin",
        "colonne_6": "s:rythme",
        "colonne_7": "s:public_vise",
    }
    doublon = client_saisisseur.post(
        reverse("tableur:correspondance", args=[imp.pk]), {**correspondance, "colonne_1": "f:intitule"}
    )
    assert "ne peut recevoir qu&#x27;une colonne du fichier : Formation : Intitulé" in doublon.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client_saisisseur.post(reverse("tableur:correspondance", args=[imp.pk]), correspondance)
    imp.refresh_from_db()
    assert imp.statut == ImportTableur.Statut.VERIFIE
    erreurs = list(imp.erreurs.all())
    assert [(e.ligne, e.colonne, e.valeur) for e in erreurs] == [(4, "Début", "lundi prochain")]
    with django_capture_on_commit_callbacks(execute=True):
        client_saisisseur.post(reverse("tableur:importer", args=[imp.pk]))
    mig = Formation.objects.get(intitule="Soudure MIG")
    assert mig.actions.count() == 2  # two rows of one formation: one formation, two sessions
    assert Session.objects.filter(action__formation=mig, debut=datetime.date(2027, 9, 7)).exists()

    # The same headers come back: the saved mapping is used, nothing to map, nothing created twice.
    _deposer(client_saisisseur, data, django_capture_on_commit_callbacks, "stages-bis.xlsx")
    second = ImportTableur.objects.latest("pk")
    assert second.statut == ImportTableur.Statut.VERIFIE
    assert second.correspondance == Correspondance.objects.get(organisme=organisme)
    with django_capture_on_commit_callbacks(execute=True):
        client_saisisseur.post(reverse("tableur:importer", args=[second.pk]))
    second.refresh_from_db()
    assert (second.formations_creees, second.sessions_creees, second.inchangees) == (
        0,
        0,
        4,
    )  # 2 formations, 2 sessions


def test_export_then_import_of_the_layout_changes_nothing_and_updates_what_was_edited(
    client_saisisseur, organisme, saisisseur, referentiels, lieux, django_capture_on_commit_callbacks
):
    """Round trip: the OF exports its formations, edits one cell, imports the file back."""
    session = SessionFactory(
        action__formation__organisme=organisme,
        action__rythme="Temps plein",
        action__public_vise=["83056"],
        debut=datetime.date(2027, 2, 1),
        fin=datetime.date(2027, 5, 28),
    )
    session.action.lieux.add(lieux["bourges"])
    output = io.BytesIO()
    write_excel(output, Formation.objects.filter(organisme=organisme))
    _deposer(client_saisisseur, output.getvalue(), django_capture_on_commit_callbacks)
    imp = ImportTableur.objects.get()
    assert (imp.statut, imp.lignes_en_erreur, imp.lignes_valides) == (ImportTableur.Statut.VERIFIE, 0, 2)
    with django_capture_on_commit_callbacks(execute=True):
        client_saisisseur.post(reverse("tableur:importer", args=[imp.pk]))
    imp.refresh_from_db()
    assert (imp.formations_creees, imp.sessions_creees, imp.formations_modifiees, imp.sessions_modifiees) == (
        0,
        0,
        0,
        0,
    )
    assert imp.inchangees == 2
    version = Session.objects.get().version

    workbook = openpyxl.load_workbook(io.BytesIO(output.getvalue()))
    sessions = workbook["Actions et sessions"]
    entetes = {c.value: c.column_letter for c in sessions[1]}
    sessions[f"{entetes['Date de fin']}2"] = datetime.datetime(2027, 6, 25)
    modifie = io.BytesIO()
    workbook.save(modifie)
    _deposer(client_saisisseur, modifie.getvalue(), django_capture_on_commit_callbacks)
    second = ImportTableur.objects.latest("pk")
    with django_capture_on_commit_callbacks(execute=True):
        client_saisisseur.post(reverse("tableur:importer", args=[second.pk]))
    second.refresh_from_db()
    assert (second.sessions_creees, second.sessions_modifiees, second.inchangees) == (0, 1, 1)
    session = Session.objects.get()
    assert session.fin == datetime.date(2027, 6, 25) and session.version == version + 1
