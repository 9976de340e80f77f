"""The offer gate: 404 for another OF, 403 for a missing right, read-only sources refused with the guide text."""

import pytest
from django.urls import reverse

from ofeli.core.region import current_region
from ofeli.offre.models import Source
from tests.factories import ContactFactory, FormationFactory, PieceJointeFactory, SessionFactory

pytestmark = pytest.mark.django_db


def test_formation_d_un_autre_of_est_introuvable(client_saisisseur):
    autre = FormationFactory()
    for name in ("formation_detail", "formation_modifier", "formation_supprimer"):
        assert client_saisisseur.get(reverse(f"offre:{name}", args=[autre.pk])).status_code == 404
    assert client_saisisseur.get(reverse("offre:session_creer", args=[autre.pk])).status_code == 404


def test_session_d_un_autre_of_est_introuvable(client_saisisseur):
    session = SessionFactory()
    for name in ("session_detail", "session_modifier", "session_dupliquer"):
        assert client_saisisseur.get(reverse(f"offre:{name}", args=[session.pk])).status_code == 404


def test_un_lecteur_consulte_mais_ne_saisit_pas(client, lecteur):
    formation = FormationFactory(organisme=lecteur.organisme)
    session = SessionFactory(action__formation=formation)
    client.force_login(lecteur.user)
    assert client.get(reverse("offre:formation_detail", args=[formation.pk])).status_code == 200
    assert client.get(reverse("offre:session_detail", args=[session.pk])).status_code == 200
    assert client.get(reverse("offre:formation_modifier", args=[formation.pk])).status_code == 403
    assert client.get(reverse("offre:session_modifier", args=[session.pk])).status_code == 403
    assert client.get(reverse("offre:formation_creer")).status_code == 403
    assert client.post(reverse("offre:formation_soumettre", args=[formation.pk])).status_code == 403


def test_anonyme_renvoye_a_la_connexion(client):
    formation = FormationFactory()
    response = client.get(reverse("offre:formation_detail", args=[formation.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_l_equipe_offre_passe(client, staff_user):
    formation = FormationFactory()
    client.force_login(staff_user)
    assert client.get(reverse("offre:formation_detail", args=[formation.pk])).status_code == 200
    assert client.get(reverse("offre:formation_modifier", args=[formation.pk])).status_code == 200


@pytest.mark.parametrize(
    ("source", "attendu"),
    [
        (Source.REGION, "référent territorial"),
        (Source.AFC, "formationsconventionnees"),
        (Source.POEC, "POEC"),
    ],
)
def test_sources_en_lecture_seule_atteintes_par_url(client_saisisseur, saisisseur, source, attendu):
    formation = FormationFactory(organisme=saisisseur.organisme, source=source)
    session = SessionFactory(action__formation=formation)
    assert client_saisisseur.get(reverse("offre:formation_detail", args=[formation.pk])).status_code == 200
    for url in (
        reverse("offre:formation_modifier", args=[formation.pk]),
        reverse("offre:session_creer", args=[formation.pk]),
        reverse("offre:session_modifier", args=[session.pk]),
        reverse("offre:session_dupliquer", args=[session.pk]),
    ):
        response = client_saisisseur.get(url)
        assert response.status_code == 403
        assert attendu in response.content.decode()
    response = client_saisisseur.post(reverse("offre:formation_modifier", args=[formation.pk]), {"intitule": "X"})
    assert response.status_code == 403
    formation.refresh_from_db()
    assert formation.intitule != "X"


@pytest.mark.parametrize("source", [Source.APPRENTISSAGE, Source.SCOLAIRE])
def test_apprentissage_et_scolaire_ajout_de_sessions_seulement(client_saisisseur, saisisseur, source):
    formation = FormationFactory(organisme=saisisseur.organisme, source=source)
    assert client_saisisseur.get(reverse("offre:session_creer", args=[formation.pk])).status_code == 200
    response = client_saisisseur.get(reverse("offre:formation_modifier", args=[formation.pk]))
    assert response.status_code == 403
    assert current_region().gip.email in response.content.decode()
    detail = client_saisisseur.get(reverse("offre:formation_detail", args=[formation.pk])).content.decode()
    assert "Ajouter une session" in detail
    assert "Modifier la formation" not in detail
    assert current_region().gip.email in detail


class TestPiecesJointes:
    def test_servie_aux_contacts_de_l_of(self, client, lecteur):
        piece = PieceJointeFactory(organisme=lecteur.organisme, agrement=True)
        client.force_login(lecteur.user)
        response = client.get(reverse("offre:piece_jointe", args=[piece.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
        assert b"".join(response.streaming_content).startswith(b"%PDF")

    def test_refusee_a_un_autre_of(self, client):
        piece = PieceJointeFactory()
        autre = ContactFactory()
        client.force_login(autre.user)
        assert client.get(reverse("offre:piece_jointe", args=[piece.pk])).status_code == 404

    def test_servie_a_l_equipe_offre(self, client, staff_user):
        piece = PieceJointeFactory()
        client.force_login(staff_user)
        assert client.get(reverse("offre:piece_jointe", args=[piece.pk])).status_code == 200

    def test_refusee_a_un_contact_inactif(self, client):
        contact = ContactFactory(actif=False)
        piece = PieceJointeFactory(organisme=contact.organisme)
        client.force_login(contact.user)
        assert client.get(reverse("offre:piece_jointe", args=[piece.pk])).status_code in (403, 404)

    def test_anonyme_renvoye_a_la_connexion(self, client):
        piece = PieceJointeFactory()
        assert client.get(reverse("offre:piece_jointe", args=[piece.pk])).status_code == 302


def test_toutes_les_vues_de_l_offre_ont_une_porte():
    from django.urls import get_resolver

    from ofeli.offre import urls

    for pattern in urls.urlpatterns:
        assert getattr(pattern.callback, "ofeli_gate", None), pattern.name
    assert get_resolver()
