"""Rollover (reconduire_sessions and the GIP's command): next year's drafts, leap years, recurring sessions, once."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import strategies as st

from ofeli.offre.models import Etat, EtatRecrutement, Reconduction, Session, Source
from ofeli.offre.reconduction import decaler, reconduire_sessions
from ofeli.offre.rules import message_source
from ofeli.validation.models import Transition
from tests.factories import (
    ActionFactory,
    ContactFactory,
    FormationFactory,
    LieuFactory,
    OrganismeFactory,
    PieceJointeFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date


def session_de(organisme, *, esp=False, formation=None, **kwargs):
    formation = formation or FormationFactory(organisme=organisme, validee=True)
    return SessionFactory(action=ActionFactory(formation=formation, entree_sortie_permanente=esp), **kwargs)


def test_reconduite_en_brouillon_avec_les_dates_decalees_d_un_an(organisme, saisisseur):
    origine = session_de(
        organisme,
        debut=D(2026, 9, 14),
        fin=D(2027, 6, 30),
        inscription_debut=D(2026, 5, 2),
        inscription_fin=D(2026, 9, 1),
        places_restantes=3,
        places_date=D(2026, 8, 1),
        etat_recrutement=EtatRecrutement.FERME,
    )
    lieu = LieuFactory(organisme=organisme)
    origine.action.lieux.add(lieu)

    resultat = reconduire_sessions(user=saisisseur.user, sessions=[origine], annee_cible=2027)

    assert len(resultat.reconduites) == 1
    copie = Session.objects.select_related("action").get(pk=resultat.reconduites[0].session.pk)
    assert (copie.debut, copie.fin) == (D(2027, 9, 14), D(2028, 6, 30))
    assert (copie.inscription_debut, copie.inscription_fin) == (D(2027, 5, 2), D(2027, 9, 1))
    assert (copie.places_restantes, copie.places_date) == (None, None)
    assert copie.etat_recrutement == EtatRecrutement.OUVERT
    assert list(copie.action.lieux.all()) == [lieu]
    assert copie.action.formation_id == origine.action.formation_id and copie.action_id != origine.action_id
    # A draft to check and submit: nothing submitted, the validated formation and origin untouched.
    assert copie.etat == Etat.BROUILLON and copie.action.etat == Etat.BROUILLON and copie.soumise_at is None
    assert not Transition.objects.exists()
    origine.refresh_from_db()
    assert origine.etat == Etat.VALIDEE and origine.action.formation.etat == Etat.VALIDEE
    assert Reconduction.objects.get(session=copie).origine == origine


@pytest.mark.parametrize(
    "debut, fin, annee, attendu",
    [
        # A session starting on 29 February 2028 carried into 2029: 28 February.
        (D(2028, 2, 29), D(2028, 3, 31), 2029, (D(2029, 2, 28), D(2029, 3, 31))),
        # Into a leap year: 28 February stays 28 February (no day is invented).
        (D(2027, 2, 28), D(2027, 12, 15), 2028, (D(2028, 2, 28), D(2028, 12, 15))),
        # A session of 2027 ending on 29 February 2028 ends on 28 February 2029.
        (D(2027, 11, 2), D(2028, 2, 29), 2028, (D(2028, 11, 2), D(2029, 2, 28))),
    ],
)
def test_annee_bissextile(organisme, saisisseur, debut, fin, annee, attendu):
    origine = session_de(
        organisme, debut=debut, fin=fin, inscription_debut=D(debut.year, 2, 29 if debut.year % 4 == 0 else 28)
    )
    resultat = reconduire_sessions(user=saisisseur.user, sessions=[origine], annee_cible=annee)
    copie = resultat.reconduites[0].session
    assert (copie.debut, copie.fin) == attendu
    assert copie.inscription_debut == D(annee, 2, 28)


@given(st.dates(min_value=D(2001, 1, 1), max_value=D(2098, 12, 31)))
def test_decaler_donne_le_meme_jour_un_an_apres_ou_le_28_fevrier(date):
    suivant = decaler(date)
    assert suivant.year == date.year + 1
    if (date.month, date.day) == (2, 29):
        assert (suivant.month, suivant.day) == (2, 28)
    else:
        assert (suivant.month, suivant.day) == (date.month, date.day)


def test_relancer_ne_cree_rien_deux_fois(organisme, saisisseur):
    origine = session_de(organisme, debut=D(2026, 3, 2), fin=D(2026, 6, 30))
    premiere = reconduire_sessions(user=saisisseur.user, sessions=[origine], annee_cible=2027)
    seconde = reconduire_sessions(user=saisisseur.user, sessions=[origine, origine.pk], annee_cible=2027)
    assert seconde.reconduites == [] and seconde.refusees == []
    assert [ligne.session for ligne in seconde.deja_reconduites] == [premiere.reconduites[0].session]
    assert Session.objects.filter(action__formation=origine.action.formation).count() == 2
    # The copy itself may be carried to the year after.
    copie = premiere.reconduites[0].session
    assert len(reconduire_sessions(user=saisisseur.user, sessions=[copie], annee_cible=2028).reconduites) == 1


@pytest.mark.parametrize(
    "fin, fin_attendue",
    [(D(2026, 12, 31), D(2027, 12, 31)), (D(2027, 3, 31), D(2028, 3, 31))],
)
def test_session_recurrente_renouvelee_pour_l_annee_suivante(organisme, saisisseur, fin, fin_attendue):
    origine = session_de(organisme, esp=True, debut=D(2026, 1, 1), fin=fin)
    resultat = reconduire_sessions(user=saisisseur.user, sessions=[origine], annee_cible=2027)
    copie = resultat.reconduites[0].session
    assert (copie.debut, copie.fin) == (D(2027, 1, 1), fin_attendue)
    assert copie.action.entree_sortie_permanente


def test_simulation_ne_cree_rien(organisme, saisisseur):
    origine = session_de(organisme, debut=D(2026, 3, 2), fin=D(2026, 6, 30))
    resultat = reconduire_sessions(user=saisisseur.user, sessions=[origine], annee_cible=2027, simulation=True)
    assert resultat.simulation and len(resultat.reconduites) == 1
    assert resultat.reconduites[0].dates.debut == D(2027, 3, 2)
    assert Session.objects.count() == 1 and not Reconduction.objects.exists()


def test_refus_avec_la_raison_et_les_autres_reconduites(organisme, saisisseur):
    bonne = session_de(organisme, debut=D(2026, 3, 2), fin=D(2026, 6, 30))
    autre_annee = session_de(organisme, debut=D(2025, 3, 2), fin=D(2025, 6, 30))
    eos = session_de(
        organisme,
        formation=FormationFactory(organisme=organisme, source=Source.REGION),
        debut=D(2026, 3, 2),
        fin=D(2026, 6, 30),
    )
    archivee = session_de(organisme, debut=D(2026, 3, 2), fin=D(2026, 6, 30), etat=Etat.ARCHIVE_OF)
    resultat = reconduire_sessions(user=saisisseur.user, sessions=[bonne, autre_annee, eos, archivee], annee_cible=2027)
    assert [ligne.origine for ligne in resultat.reconduites] == [bonne]
    raisons = {ligne.origine.pk: ligne.raisons for ligne in resultat.refusees}
    assert raisons == {
        autre_annee.pk: [
            "La session commence en 2025 : seules les sessions commençant en 2026 sont reconduites en 2027."
        ],
        eos.pk: [message_source(Source.REGION)],
        archivee.pk: ["La session ou sa formation est archivée (Archive OF) : elle n'est pas reconduite."],
    }


def test_hors_region_avec_convention_de_la_session_reconduite_avec_sa_convention(organisme, saisisseur):
    origine = session_de(organisme, debut=D(2026, 3, 2), fin=D(2026, 6, 30))
    origine.action.lieux.add(LieuFactory(organisme=organisme, hors_region=True))
    PieceJointeFactory(organisme=organisme, session=origine, convention=True)
    resultat = reconduire_sessions(user=saisisseur.user, sessions=[origine], annee_cible=2027)
    copie = resultat.reconduites[0].session
    assert copie.pieces_jointes.get().nature == "convention"


def test_un_contact_d_un_autre_organisme_ne_peut_pas_reconduire(organisme):
    origine = session_de(organisme, debut=D(2026, 3, 2), fin=D(2026, 6, 30))
    with pytest.raises(PermissionDenied):
        reconduire_sessions(user=ContactFactory(peut_saisir=True).user, sessions=[origine], annee_cible=2027)
    with pytest.raises(PermissionDenied):
        reconduire_sessions(
            user=ContactFactory(organisme=organisme, lecteur=True).user, sessions=[origine], annee_cible=2027
        )
    assert Session.objects.count() == 1


class TestCommande:
    def monde(self):
        a = OrganismeFactory(nda="24450009991", raison_sociale="Alpha Formation")
        b = OrganismeFactory(nda="24450009992", raison_sociale="Beta Formation")
        sessions = {
            "a_validee": session_de(a, debut=D(2026, 2, 29 - 1), fin=D(2026, 6, 30)),
            "a_esp": session_de(a, esp=True, debut=D(2026, 1, 1), fin=D(2026, 12, 31)),
            "a_brouillon": session_de(
                a, formation=FormationFactory(organisme=a), debut=D(2026, 3, 2), fin=D(2026, 6, 30)
            ),
            "a_2025": session_de(a, debut=D(2025, 3, 2), fin=D(2025, 6, 30)),
            "b_validee": session_de(b, debut=D(2026, 4, 1), fin=D(2026, 7, 1)),
        }
        return a, b, sessions

    def appeler(self, *args):
        sortie = io.StringIO()
        call_command("reconduire_sessions", *args, stdout=sortie)
        return sortie.getvalue()

    def test_simulation_puis_reconduction_puis_relance(self):
        a, b, sessions = self.monde()
        sortie = self.appeler("--annee", "2027", "--dry-run")
        assert "Simulation : rien n'a été enregistré." in sortie
        assert "Alpha Formation (24450009991) : 2 sessions reconduites" in sortie
        assert "Beta Formation (24450009992) : 1 session reconduite" in sortie
        assert "Total : 3 sessions reconduites, 0 déjà reconduite, 0 refusée." in sortie
        assert not Reconduction.objects.exists()

        sortie = self.appeler("--annee", "2027")
        assert "Total : 3 sessions reconduites, 0 déjà reconduite, 0 refusée." in sortie
        assert set(Reconduction.objects.values_list("origine_id", flat=True)) == {
            sessions["a_validee"].pk,
            sessions["a_esp"].pk,
            sessions["b_validee"].pk,
        }
        assert set(Session.objects.filter(debut__year=2027).values_list("etat", flat=True)) == {Etat.BROUILLON}

        sortie = self.appeler("--annee", "2027")
        assert "Total : 0 session reconduite, 3 déjà reconduites, 0 refusée." in sortie
        assert Reconduction.objects.count() == 3

    def test_un_seul_organisme(self):
        a, b, sessions = self.monde()
        sortie = self.appeler("--annee", "2027", "--organisme", "24450009992")
        assert "Beta Formation" in sortie and "Alpha Formation" not in sortie
        assert list(Reconduction.objects.values_list("origine_id", flat=True)) == [sessions["b_validee"].pk]

    def test_organisme_inconnu_et_annee_invalide(self):
        with pytest.raises(CommandError, match="Aucun organisme n'a le numéro de déclaration d'activité 99999999999"):
            self.appeler("--annee", "2027", "--organisme", "99999999999")
        with pytest.raises(CommandError, match="année sur quatre chiffres"):
            self.appeler("--annee", "27")

    def test_les_contacts_de_l_of_sont_prevenus_de_leurs_brouillons(self, client, django_capture_on_commit_callbacks):
        from django.core import mail

        from ofeli.messagerie.models import Notification
        from tests.factories import ContactFactory

        a, b, _sessions = self.monde()
        contact_a, contact_b = ContactFactory(organisme=a), ContactFactory(organisme=b)
        self.appeler("--annee", "2027", "--dry-run")
        assert not Notification.objects.exists()  # a simulation tells no one

        with django_capture_on_commit_callbacks(execute=True):
            self.appeler("--annee", "2027")
        notice = Notification.objects.get(user=contact_a.user)
        assert notice.sujet == "Sessions reconduites en 2027 : à vérifier et soumettre"
        assert "a reconduit 2 sessions de 2026 sur 2027, en brouillon" in notice.texte
        assert notice.lien == "/offre/sessions/reconduction/?annee=2026"
        assert "a reconduit 1 session de 2026 sur 2027" in Notification.objects.get(user=contact_b.user).texte
        courriel = next(m for m in mail.outbox if m.to == [contact_a.user.email])
        assert "a reconduit 2 sessions de 2026 sur 2027" in courriel.body
        # The link shows the OF its sessions of 2026 with their draft copies.
        client.force_login(contact_a.user)
        assert client.get(notice.lien).status_code == 200

        self.appeler("--annee", "2027")  # nothing new: no new notice
        assert Notification.objects.count() == 2
