"""Staff screens of the imports, and imported offer as the OF sees it (read-only, sessions for apprentissage)."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ofeli.diffusion import imports
from ofeli.diffusion.models_imports import ImportRun
from ofeli.offre.models import Formation, Session, Source
from tests.factories import ContactFactory

DATA = Path(__file__).parent / "data"

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


def upload(nom="eos-2.3.xml", contenu=None):
    return SimpleUploadedFile(nom, contenu if contenu is not None else (DATA / nom).read_bytes(), "text/xml")


def test_staff_upload_a_file_which_is_imported_in_the_background_with_a_report(
    client, staff_user, django_capture_on_commit_callbacks
):
    client.force_login(staff_user)
    response = client.get(reverse("diffusion:imports"))
    assert response.status_code == 200
    assert "Lancer l'import" in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("diffusion:imports"), {"fichier": upload(), "source": "eos"})
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("diffusion:import_detail", args=[run.pk])
    run.refresh_from_db()  # Huey runs tasks at once in tests (immediate mode), after the commit
    assert (run.statut, run.crees, run.lance_par, run.nom_fichier) == (
        ImportRun.Statut.TERMINE,
        1,
        staff_user,
        "eos-2.3.xml",
    )
    assert Formation.objects.get().source == Source.REGION

    html = client.get(response.url).content.decode()
    assert "Terminé" in html and "Aucun enregistrement rejeté" in html
    # The list shows the run; the htmx fragment is the progress section alone.
    assert "eos-2.3.xml" in client.get(reverse("diffusion:imports")).content.decode()
    fragment = client.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="import-progression"')
    assert "hx-trigger" not in fragment  # finished: no more polling


def test_the_report_lists_rejected_records_with_their_reason(client, staff_user, django_capture_on_commit_callbacks):
    contenu = (DATA / "eos-2.3.xml").read_text().replace("73282932000074", "73282932000075")
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("diffusion:imports"), {"fichier": upload(contenu=contenu.encode()), "source": "afc"})
    run = ImportRun.objects.get()
    html = client.get(reverse("diffusion:import_detail", args=[run.pk])).content.decode()
    assert "EOS_F1" in html and "sans SIRET valide" in html
    assert not Formation.objects.exists()


def test_an_unfinished_run_polls_and_an_erroneous_one_can_be_resumed(
    client, staff_user, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "f.xml"
    path.write_bytes((DATA / "eos-2.3.xml").read_bytes())
    run = imports.import_creer(source="eos", chemin=str(path), user=staff_user)
    client.force_login(staff_user)
    html = client.get(reverse("diffusion:import_detail", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in html and "Actualiser la page" in html

    ImportRun.objects.filter(pk=run.pk).update(statut=ImportRun.Statut.ERREUR, message="coupure", checkpoint=0)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("diffusion:import_reprendre", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.statut, run.crees) == (ImportRun.Statut.TERMINE, 1)
    response = client.post(reverse("diffusion:import_reprendre", args=[run.pk]), follow=True)
    assert "Seul un import en erreur" in response.content.decode()


def test_a_file_that_is_neither_xml_nor_a_workbook_is_refused_by_the_form(client, staff_user):
    client.force_login(staff_user)
    response = client.post(
        reverse("diffusion:imports"), {"fichier": upload("tableur.xlsx", b"PK\x03\x04..."), "source": "eos"}
    )
    assert response.status_code == 200
    assert "classeur Excel est illisible ou endommagé" in response.content.decode()
    response = client.post(reverse("diffusion:imports"), {"fichier": upload("notes.txt", b"bonjour"), "source": "eos"})
    assert "ni un fichier XML ni un classeur Excel" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_the_staff_screen_imports_the_excel_layout_in_the_background(
    client, staff_user, django_capture_on_commit_callbacks
):
    import datetime

    from tests.tableur.classeurs import classeur

    data = classeur(
        [
            {
                "Identifiant dans la source": "E1",
                "Intitulé": "CAP Cuisine",
                "SIRET": "73282932000074",
                "Objectif": "o",
                "Résultats attendus": "r",
                "Contenu": "c",
            }
        ],
        [
            {
                "Identifiant source de la formation": "E1",
                "Identifiant source de la session": "S1",
                "Date de début": datetime.date(2026, 9, 1),
                "Date de fin": datetime.date(2027, 6, 30),
                "Rythme": "Alternance",
                "Publics visés (Formacode)": "15084",
            }
        ],
    )
    client.force_login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("diffusion:imports"), {"fichier": upload("scolaire.xlsx", data), "source": "scolaire"}
        )
    run = ImportRun.objects.get()
    assert response.url == reverse("diffusion:import_detail", args=[run.pk])
    run.refresh_from_db()
    assert (run.statut, run.crees, run.rejetees) == (ImportRun.Statut.TERMINE, 1, 0)
    formation = Formation.objects.get()
    assert (formation.source, formation.source_ref, formation.intitule) == (Source.SCOLAIRE, "E1", "CAP Cuisine")


def test_imports_are_for_staff_only(client, gestionnaire):
    client.force_login(gestionnaire.user)
    assert client.get(reverse("diffusion:imports")).status_code == 403
    response = client.post(reverse("diffusion:imports"), {"fichier": upload(), "source": "eos"})
    assert response.status_code == 403
    assert not ImportRun.objects.exists()


def _importer(tmp_path, source):
    path = tmp_path / f"{source}.xml"
    path.write_bytes((DATA / "eos-2.3.xml").read_bytes())
    imports.import_executer(run=imports.import_creer(source=source, chemin=str(path)))
    formation = Formation.objects.get(source=imports.SOURCES[source])
    return formation


@pytest.mark.parametrize("source", ["eos", "afc", "poec"])
def test_imported_offer_is_read_only_for_the_of(client, tmp_path, source):
    formation = _importer(tmp_path, source)
    contact = ContactFactory(organisme=formation.organisme, gestionnaire=True)
    session = Session.objects.filter(action__formation=formation).first()
    client.force_login(contact.user)
    assert client.get(reverse("offre:formation_detail", args=[formation.pk])).status_code == 200
    intitule = formation.intitule
    for url in (
        reverse("offre:formation_modifier", args=[formation.pk]),
        reverse("offre:session_creer", args=[formation.pk]),
        reverse("offre:session_modifier", args=[session.pk]),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, {"intitule": "Changé par l'OF"}).status_code == 403
    formation.refresh_from_db()
    assert formation.intitule == intitule


@pytest.mark.parametrize("source", ["apprentissage", "scolaire"])
def test_apprentissage_and_scolaire_accept_sessions_added_by_the_of(client, tmp_path, source):
    formation = _importer(tmp_path, source)
    contact = ContactFactory(organisme=formation.organisme, gestionnaire=True)
    client.force_login(contact.user)
    assert client.get(reverse("offre:formation_modifier", args=[formation.pk])).status_code == 403
    assert client.get(reverse("offre:session_creer", args=[formation.pk])).status_code == 200
