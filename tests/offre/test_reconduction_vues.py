"""Screens of the rollover: choose the sessions of year N (new dates shown), preview, confirm; isolation."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from ofeli.offre.models import Etat, Reconduction, Session
from tests.factories import ActionFactory, ContactFactory, FormationFactory, SessionFactory

pytestmark = pytest.mark.django_db
D = datetime.date


def session_de(organisme, **kwargs):
    formation = FormationFactory(organisme=organisme, validee=True, intitule=kwargs.pop("intitule", "Soudure TIG"))
    return SessionFactory(action=ActionFactory(formation=formation), **kwargs)


def test_la_liste_de_l_annee_en_cours_montre_les_nouvelles_dates(client, saisisseur, organisme):
    bissextile = session_de(organisme, debut=D(2028, 2, 29), fin=D(2028, 6, 30))
    session_de(organisme, debut=D(2027, 3, 1), fin=D(2027, 6, 30), intitule="Session de 2027")
    with time_machine.travel(datetime.datetime(2028, 12, 1, 10, tzinfo=datetime.UTC)):
        client.force_login(saisisseur.user)
        page = client.get(reverse("offre:reconduction_choisir")).content.decode()
        assert "Reconduire des sessions de 2028 sur 2029" in page
        assert f'value="{bissextile.pk}"' in page
        assert "28/02/2029 – 30/06/2029" in page
        assert "Session de 2027" not in page
        page = client.get(reverse("offre:reconduction_choisir"), {"annee": "2027"}).content.decode()
        assert "Session de 2027" in page


def test_previsualiser_ne_cree_rien_puis_confirmer_cree_des_brouillons(client_saisisseur, organisme):
    origine = session_de(organisme, debut=D(2026, 9, 1), fin=D(2027, 6, 30))
    url = reverse("offre:reconduction_confirmer")
    apercu = client_saisisseur.post(url, {"session": [origine.pk], "annee": "2027"})
    page = apercu.content.decode()
    assert "Vérifier la reconduction sur 2027" in page and "01/09/2027 – 30/06/2028" in page
    assert 'name="confirmer" value="1"' in page
    assert Session.objects.count() == 1

    resultat = client_saisisseur.post(url, {"session": [origine.pk], "annee": "2027", "confirmer": "1"})
    assert "1 session créée en brouillon" in resultat.content.decode()
    copie = Reconduction.objects.get(origine=origine).session
    assert copie.etat == Etat.BROUILLON and copie.debut == D(2027, 9, 1)

    # Confirming twice (a page reloaded) creates nothing more.
    encore = client_saisisseur.post(url, {"session": [origine.pk], "annee": "2027", "confirmer": "1"})
    assert "Sessions déjà reconduites sur 2027" in encore.content.decode()
    assert Session.objects.count() == 2
    liste = client_saisisseur.get(reverse("offre:reconduction_choisir"), {"annee": "2026"}).content.decode()
    assert "Déjà reconduite sur 2027" in liste and f'value="{origine.pk}"' not in liste


def test_sans_session_ni_annee(client_saisisseur):
    url = reverse("offre:reconduction_confirmer")
    reponse = client_saisisseur.post(url, {"annee": "2027"}, follow=True)
    assert "Cochez au moins une session à reconduire." in reponse.content.decode()
    reponse = client_saisisseur.post(url, {"session": ["1"]}, follow=True)
    assert "Indiquez l&#x27;année sur laquelle reconduire les sessions." in reponse.content.decode()


def test_les_sessions_d_un_autre_organisme_ne_sont_jamais_reconduites(client, organisme):
    origine = session_de(organisme, debut=D(2026, 9, 1), fin=D(2027, 6, 30), intitule="Secret de A")
    client.force_login(ContactFactory(peut_saisir=True).user)
    reponse = client.post(
        reverse("offre:reconduction_confirmer"), {"session": [origine.pk], "annee": "2027", "confirmer": "1"}
    )
    page = reponse.content.decode()
    assert "Secret de A" not in page and "1 session choisie introuvable" in page
    assert Session.objects.count() == 1


def test_un_contact_consulter_n_y_a_pas_acces(client, lecteur):
    client.force_login(lecteur.user)
    assert client.get(reverse("offre:reconduction_choisir")).status_code == 403
    assert client.post(reverse("offre:reconduction_confirmer"), {"annee": "2027"}).status_code == 403
