"""Screens of the bulk edit: choose (list, search result, formation), change, result; isolation and rights."""

import pytest
from django.urls import reverse

from ofeli.offre.models import Dispositif, Etat, EtatRecrutement, Session
from ofeli.recherche import index as search_index
from tests.factories import ActionFactory, ContactFactory, FormationFactory, LieuFactory, SessionFactory

pytestmark = pytest.mark.django_db


def session_de(organisme, **formation):
    return SessionFactory(action=ActionFactory(formation=FormationFactory(organisme=organisme, **formation)))


def test_la_liste_montre_mes_sessions_seulement_et_filtre(client_saisisseur, organisme):
    soudure = session_de(organisme, intitule="Soudure TIG")
    cuisine = session_de(organisme, intitule="Cuisine collective")
    autre = SessionFactory(action__formation__intitule="Formation d'un autre organisme")
    page = client_saisisseur.get(reverse("offre:masse_choisir")).content.decode()
    assert f'value="{soudure.pk}"' in page and f'value="{cuisine.pk}"' in page
    assert "Formation d&#x27;un autre organisme" not in page and f'value="{autre.pk}"' not in page
    page = client_saisisseur.get(reverse("offre:masse_choisir"), {"texte": "soudure"}).content.decode()
    assert f'value="{soudure.pk}"' in page and f'value="{cuisine.pk}"' not in page


def test_depuis_une_formation_et_depuis_un_resultat_de_recherche(client_saisisseur, organisme):
    soudure = session_de(organisme, intitule="Soudure TIG")
    cuisine = session_de(organisme, intitule="Cuisine collective")
    for s in (soudure, cuisine):
        search_index.indexer_formation(s.action.formation_id)
    url = reverse("offre:masse_choisir")
    page = client_saisisseur.get(url, {"formation": cuisine.action.formation_id}).content.decode()
    assert f'value="{cuisine.pk}"' in page and f'value="{soudure.pk}"' not in page
    page = client_saisisseur.get(url, {"recherche": "1", "q": "soudure"}).content.decode()
    assert f'value="{soudure.pk}"' in page and f'value="{cuisine.pk}"' not in page
    assert "Revenir à la recherche" in page
    # Filtering keeps the search's criteria.
    assert 'type="hidden" name="q" value="soudure"' in page


def test_liste_vide_dit_quoi_faire(client_saisisseur):
    page = client_saisisseur.get(reverse("offre:masse_choisir")).content.decode()
    assert "Aucune session ne correspond à ces filtres" in page


def test_choisir_puis_appliquer_avec_un_refus(client_saisisseur, organisme):
    validee = session_de(organisme, validee=True)
    eos = session_de(organisme, source="region")
    url = reverse("offre:masse_modifier")
    etape2 = client_saisisseur.post(url, {"session": [validee.pk, eos.pk]})
    assert etape2.status_code == 200
    assert "Modifier 2 sessions" in etape2.content.decode()
    resultat = client_saisisseur.post(
        url, {"session": [validee.pk, eos.pk], "appliquer": "1", "champ": "dispositif", "dispositif": Dispositif.CPF}
    )
    page = resultat.content.decode()
    assert resultat.status_code == 200
    assert "1</strong> session modifiée" in page and "1</strong> session refusée" in page
    assert "Conseil régional" in page  # the guide's reason for an EOS session
    assert "Entreprise ou particulier" in page and "CPF" in page  # before / after
    validee = Session.objects.select_related("action").get(pk=validee.pk)
    assert validee.action.dispositif == Dispositif.CPF and validee.etat == Etat.EN_ATTENTE
    assert Session.objects.select_related("action").get(pk=eos.pk).action.dispositif != Dispositif.CPF


def test_erreurs_du_formulaire_liees_aux_champs(client_saisisseur, organisme):
    session = session_de(organisme)
    page = client_saisisseur.post(
        reverse("offre:masse_modifier"),
        {"session": [session.pk], "appliquer": "1", "champ": "periode_inscription", "inscription_debut": "32/01/2027"},
    ).content.decode()
    assert "Rien n'est modifié" in page
    assert "Indiquez la fin de la période d&#x27;inscription." in page
    assert Session.objects.get(pk=session.pk).version == session.version


def test_contacts_et_lieux_proposes_sont_ceux_de_l_organisme(client_saisisseur, organisme):
    session = session_de(organisme)
    mien = LieuFactory(organisme=organisme, denomination="Atelier de Vierzon")
    LieuFactory(denomination="Lieu d'ailleurs")
    page = client_saisisseur.post(reverse("offre:masse_modifier"), {"session": [session.pk]}).content.decode()
    assert "Atelier de Vierzon" in page and "Lieu d&#x27;ailleurs" not in page
    resultat = client_saisisseur.post(
        reverse("offre:masse_modifier"),
        {"session": [session.pk], "appliquer": "1", "champ": "lieux", "lieux": [mien.pk]},
    )
    assert "1</strong> session modifiée" in resultat.content.decode()


def test_les_ids_d_un_autre_organisme_sont_refuses(client, organisme):
    autre = session_de(organisme, intitule="Secret de A")
    intrus = ContactFactory(peut_saisir=True)
    client.force_login(intrus.user)
    reponse = client.post(
        reverse("offre:masse_modifier"),
        {"session": [autre.pk], "appliquer": "1", "champ": "etat_recrutement", "etat_recrutement": "2"},
    )
    page = reponse.content.decode()
    assert "Secret de A" not in page
    assert "Session introuvable parmi les sessions de l&#x27;organisme" in page
    assert Session.objects.get(pk=autre.pk).etat_recrutement == EtatRecrutement.OUVERT


def test_un_contact_consulter_n_y_a_pas_acces(client, lecteur, organisme):
    session = session_de(organisme)
    client.force_login(lecteur.user)
    assert client.get(reverse("offre:masse_choisir")).status_code == 403
    assert client.post(reverse("offre:masse_modifier"), {"session": [session.pk]}).status_code == 403


def test_le_staff_modifie_les_sessions_de_plusieurs_organismes(client, staff_user):
    a, b = SessionFactory(), SessionFactory()
    client.force_login(staff_user)
    etape2 = client.post(reverse("offre:masse_modifier"), {"session": [a.pk, b.pk]}).content.decode()
    assert "plusieurs organismes" in etape2 and 'value="lieux"' not in etape2
    page = client.post(
        reverse("offre:masse_modifier"),
        {"session": [a.pk, b.pk], "appliquer": "1", "champ": "etat_recrutement", "etat_recrutement": "3"},
    ).content.decode()
    assert "2</strong> sessions modifiées" in page
    assert set(Session.objects.values_list("etat_recrutement", flat=True)) == {EtatRecrutement.SUSPENDU}


@pytest.mark.parametrize("slug, titre", [("modifier-en-masse", "Modifier en masse"), ("reconduire", "Reconduire")])
def test_les_pages_d_aide(client, slug, titre):
    page = client.get(reverse("core:aide_sujet", args=[slug])).content.decode()
    assert titre in page
