import io

import openpyxl
import pytest
from django.urls import reverse
from lxml import etree

from ofeli.exports import views
from ofeli.exports.models import Export
from ofeli.lheo import NS_23
from ofeli.lheo.validate import valider_lheo
from ofeli.offre.models import Etat, Formation
from tests.factories import ContactFactory, FormationFactory, OrganismeFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db
NS = {"l": NS_23}


@pytest.fixture
def offre(organisme):
    mine = [
        SessionFactory(
            action__formation=FormationFactory(organisme=organisme, etat=etat, numero=f"{i}F")
        ).action.formation
        for i, etat in enumerate([Etat.VALIDEE, Etat.BROUILLON, Etat.ARCHIVE_OF], start=1)
    ]
    autre = SessionFactory(action__formation=FormationFactory(organisme=OrganismeFactory(), numero="9F"))
    return {"mine": mine, "autre": autre.action.formation}


def _contenu(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _numeros_lheo(data: bytes):
    return sorted(f.get("numero") for f in etree.fromstring(data).iterfind("l:offres/l:formation", NS))


def test_every_view_carries_a_gate():
    for view in (views.liste, views.exporter, views.detail, views.telecharger):
        assert getattr(view, "ofeli_gate", None)


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("exports:liste"))
    assert response.status_code == 302 and "/compte/" in response["Location"]


def test_a_contact_downloads_its_own_formations_in_lheo_straight_away(client, lecteur, offre):
    client.force_login(lecteur.user)
    response = client.get(reverse("exports:exporter"), {"format": "lheo"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert "attachment" in response["Content-Disposition"] and ".xml" in response["Content-Disposition"]
    data = _contenu(response)
    assert valider_lheo(io.BytesIO(data)) == []
    assert _numeros_lheo(data) == ["1F", "2F", "3F"]  # every state, never another OF's
    assert not Export.objects.exists()


def test_a_contact_downloads_its_own_formations_in_excel(client, lecteur, offre):
    client.force_login(lecteur.user)
    response = client.get(reverse("exports:exporter"), {"format": "excel"})
    assert response.status_code == 200
    assert ".xlsx" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(_contenu(response)))
    numeros = sorted(r[1] for r in workbook["Formations"].iter_rows(min_row=2, values_only=True))  # Numéro Carif
    assert numeros == ["1F", "2F", "3F"]


def test_staff_export_everything(client, staff_user, offre):
    client.force_login(staff_user)
    data = _contenu(client.get(reverse("exports:exporter"), {"format": "lheo"}))
    assert _numeros_lheo(data) == ["1F", "2F", "3F", "9F"]


def test_export_of_a_search_result_uses_the_search_criteria(client, lecteur, offre):
    from ofeli.recherche.index import indexer_formations

    indexer_formations(Formation.objects.values_list("pk", flat=True))
    client.force_login(lecteur.user)
    response = client.get(reverse("exports:exporter"), {"format": "lheo", "etat": ["validee", "archive_of"]})
    assert _numeros_lheo(_contenu(response)) == ["1F", "3F"]


def test_bad_search_criteria_get_a_message_not_an_error(client, lecteur, offre):
    client.force_login(lecteur.user)
    response = client.get(reverse("exports:exporter"), {"format": "excel", "debut_apres": "32/13/2026"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("exports:liste")
    assert list(response.context["messages"])


def test_unknown_format_and_empty_exports_get_a_message(client, lecteur):
    client.force_login(lecteur.user)
    response = client.get(reverse("exports:exporter"), {"format": "pdf"}, follow=True)
    assert "Format d&#x27;export inconnu" in response.content.decode()
    FormationFactory(organisme=lecteur.organisme)  # no session
    response = client.get(reverse("exports:exporter"), {"format": "lheo"}, follow=True)
    assert "exige au moins une session" in response.content.decode()


def test_a_large_export_is_built_in_the_background_and_downloaded_when_ready(
    client, lecteur, offre, settings, django_capture_on_commit_callbacks
):
    settings.OFELI_EXPORT_SYNC_MAX = 2
    client.force_login(lecteur.user)
    response = client.get(reverse("exports:exporter"), {"format": "lheo"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 formations" in html and "Préparer l'export" in html
    assert not Export.objects.exists()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("exports:exporter"), {"format": "lheo"})
    assert len(callbacks) == 1  # the job is enqueued on commit
    export = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exports:detail", args=[export.pk])
    assert (export.user, export.organisme, export.format) == (lecteur.user, lecteur.organisme, "lheo")
    assert export.statut == Export.Statut.PRET
    assert (export.nb_formations, export.nb_sessions, export.total, export.traitees) == (3, 3, 3, 3)

    page = client.get(reverse("exports:detail", args=[export.pk])).content.decode()
    assert "Télécharger le fichier" in page
    download = client.get(reverse("exports:telecharger", args=[export.pk]))
    assert download.status_code == 200
    data = _contenu(download)
    assert _numeros_lheo(data) == ["1F", "2F", "3F"]
    assert valider_lheo(io.BytesIO(data)) == []
    liste = client.get(reverse("exports:liste")).content.decode()
    assert reverse("exports:telecharger", args=[export.pk]) in liste


def test_progress_is_polled_with_htmx_and_has_a_reload_link(client, lecteur):
    export = Export.objects.create(
        user=lecteur.user,
        organisme=lecteur.organisme,
        format="excel",
        total=10,
        traitees=4,
        statut=Export.Statut.EN_COURS,
    )
    client.force_login(lecteur.user)
    url = reverse("exports:detail", args=[export.pk])
    page = client.get(url).content.decode()
    assert "<html" in page and f'hx-get="{url}"' in page and "Actualiser la page" in page
    assert 'value="40"' in page
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and fragment.strip().startswith('<section id="export-progression"')
    export.statut = Export.Statut.ECHEC
    export.erreur = "L'export a échoué : disque plein"
    export.save()
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-get" not in fragment and "disque plein" in fragment
    assert client.get(reverse("exports:telecharger", args=[export.pk])).status_code == 404


def test_another_of_exports_are_404_and_staff_see_all(client, lecteur, staff_user):
    autre = ContactFactory(organisme=OrganismeFactory())
    export = Export.objects.create(user=autre.user, organisme=autre.organisme, format="lheo")
    client.force_login(lecteur.user)
    assert client.get(reverse("exports:detail", args=[export.pk])).status_code == 404
    assert client.get(reverse("exports:telecharger", args=[export.pk])).status_code == 404
    assert "Aucun export préparé" in client.get(reverse("exports:liste")).content.decode()
    client.force_login(staff_user)
    assert client.get(reverse("exports:detail", args=[export.pk])).status_code == 200
    assert reverse("exports:detail", args=[export.pk]) in client.get(reverse("exports:liste")).content.decode()


def test_a_user_without_contact_is_refused(client):
    client.force_login(UserFactory())
    assert client.get(reverse("exports:liste")).status_code == 403
