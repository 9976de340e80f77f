"""Bulk edit (modifier_sessions_en_masse): the single edit's rules and workflow, session by session."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ofeli.offre.masse import MESSAGE_INCHANGEE, MESSAGE_INTROUVABLE, Champ, modifier_sessions_en_masse
from ofeli.offre.models import Dispositif, Etat, EtatRecrutement, Session, SessionContact, Source
from ofeli.offre.rules import message_hors_region, message_source
from ofeli.validation.models import Transition
from tests.factories import (
    ActionFactory,
    ContactFactory,
    FormationFactory,
    LieuFactory,
    PieceJointeFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date


def session_de(organisme, **formation):
    return SessionFactory(action=ActionFactory(formation=FormationFactory(organisme=organisme, **formation)))


def relire(session) -> Session:
    return Session.objects.select_related("action").get(pk=session.pk)


def test_un_refus_n_empeche_pas_les_autres_et_l_etat_suit_la_saisie_unitaire(organisme, saisisseur):
    """Lieux hors région: the sessions whose formation has a convention pass, the other is refused."""
    avec_convention = FormationFactory(organisme=organisme, validee=True)
    PieceJointeFactory(organisme=organisme, formation=avec_convention, convention=True)
    validee = SessionFactory(action=ActionFactory(formation=avec_convention))
    brouillon = SessionFactory(action=ActionFactory(formation=avec_convention), etat=Etat.BROUILLON)
    sans_convention = session_de(organisme, validee=True)
    lieu_paris = LieuFactory(organisme=organisme, hors_region=True)

    resultat = modifier_sessions_en_masse(
        user=saisisseur.user,
        organisme=organisme,
        session_ids=[validee.pk, brouillon.pk, sans_convention.pk],
        champ=Champ.LIEUX,
        valeur=[lieu_paris],
    )

    assert [ligne.session_id for ligne in resultat.modifiees] == [validee.pk, brouillon.pk]
    assert [(ligne.session_id, ligne.raisons) for ligne in resultat.refusees] == [
        (sans_convention.pk, [message_hors_region()])
    ]
    assert list(relire(validee).action.lieux.all()) == [lieu_paris]
    assert list(relire(brouillon).action.lieux.all()) == [lieu_paris]
    refusee = relire(sans_convention)
    assert list(refusee.action.lieux.all()) == []
    # As a single edit: the validated session (and its action) go back to validation, the draft stays a draft,
    # the refused one is untouched.
    assert relire(validee).etat == Etat.EN_ATTENTE
    assert relire(validee).action.etat == Etat.EN_ATTENTE
    assert relire(brouillon).etat == Etat.BROUILLON
    assert refusee.etat == Etat.VALIDEE and refusee.version == sans_convention.version
    assert Transition.objects.filter(session=validee, etat_apres=Etat.EN_ATTENTE).count() == 1
    assert not Transition.objects.filter(session=sans_convention).exists()


def test_les_sessions_d_un_autre_organisme_sont_refusees_sans_etre_modifiees(organisme, saisisseur):
    mienne = session_de(organisme)
    autre = SessionFactory(etat_recrutement=EtatRecrutement.OUVERT)
    resultat = modifier_sessions_en_masse(
        user=saisisseur.user,
        organisme=organisme,
        session_ids=[mienne.pk, autre.pk, "999999", "pas-un-nombre"],
        champ=Champ.ETAT_RECRUTEMENT,
        valeur=EtatRecrutement.FERME,
    )
    assert [ligne.session_id for ligne in resultat.modifiees] == [mienne.pk]
    assert [(ligne.session_id, ligne.session, ligne.raisons) for ligne in resultat.refusees] == [
        (autre.pk, None, [MESSAGE_INTROUVABLE]),
        (999999, None, [MESSAGE_INTROUVABLE]),
    ]
    assert relire(autre).etat_recrutement == EtatRecrutement.OUVERT
    assert relire(autre).version == autre.version


def test_un_contact_d_un_autre_organisme_ne_peut_rien_modifier(organisme):
    etranger = ContactFactory(peut_saisir=True)
    session = session_de(organisme)
    with pytest.raises(PermissionDenied):
        modifier_sessions_en_masse(
            user=etranger.user,
            organisme=organisme,
            session_ids=[session.pk],
            champ=Champ.ETAT_RECRUTEMENT,
            valeur=EtatRecrutement.FERME,
        )
    assert relire(session).etat_recrutement == EtatRecrutement.OUVERT


def test_un_contact_consulter_ne_peut_rien_modifier(organisme, lecteur):
    session = session_de(organisme)
    with pytest.raises(PermissionDenied):
        modifier_sessions_en_masse(
            user=lecteur.user, organisme=organisme, session_ids=[session.pk], champ=Champ.DISPOSITIF, valeur="aif"
        )


def test_une_session_importee_en_lecture_seule_est_refusee_avec_la_raison(organisme, saisisseur):
    eos = session_de(organisme, source=Source.REGION)
    apprentissage = session_de(organisme, source=Source.APPRENTISSAGE)
    resultat = modifier_sessions_en_masse(
        user=saisisseur.user,
        organisme=organisme,
        session_ids=[eos.pk, apprentissage.pk],
        champ=Champ.ETAT_RECRUTEMENT,
        valeur=EtatRecrutement.SUSPENDU,
    )
    assert [(ligne.session_id, ligne.raisons) for ligne in resultat.refusees] == [
        (eos.pk, [message_source(Source.REGION)])
    ]
    assert [ligne.session_id for ligne in resultat.modifiees] == [apprentissage.pk]
    assert relire(eos).etat_recrutement == EtatRecrutement.OUVERT


def test_le_staff_modifie_les_sessions_de_plusieurs_organismes(staff_user):
    a, b = SessionFactory(), SessionFactory()
    resultat = modifier_sessions_en_masse(
        user=staff_user, organisme=None, session_ids=[a.pk, b.pk], champ=Champ.DISPOSITIF, valeur=Dispositif.CPF
    )
    assert len(resultat.modifiees) == 2
    assert {relire(a).action.dispositif, relire(b).action.dispositif} == {Dispositif.CPF}


def test_sans_organisme_seul_le_staff_peut(saisisseur):
    with pytest.raises(PermissionDenied):
        modifier_sessions_en_masse(
            user=saisisseur.user, organisme=None, session_ids=[1], champ=Champ.DISPOSITIF, valeur="cpf"
        )


class TestChaqueChamp:
    def test_contacts_information_et_inscription(self, organisme, saisisseur):
        session = session_de(organisme)
        nouveau = ContactFactory(organisme=organisme)
        for champ, role in [
            (Champ.CONTACTS_INFORMATION, SessionContact.Role.INFORMATION),
            (Champ.CONTACTS_INSCRIPTION, SessionContact.Role.INSCRIPTION),
        ]:
            resultat = modifier_sessions_en_masse(
                user=saisisseur.user, organisme=organisme, session_ids=[session.pk], champ=champ, valeur=[nouveau]
            )
            assert len(resultat.modifiees) == 1
            assert resultat.modifiees[0].avant == "—"
            assert [sc.contact for sc in session.session_contacts.filter(role=role)] == [nouveau]

    def test_un_contact_d_un_autre_organisme_est_refuse(self, organisme, saisisseur):
        session = session_de(organisme)
        etranger = ContactFactory()
        resultat = modifier_sessions_en_masse(
            user=saisisseur.user,
            organisme=organisme,
            session_ids=[session.pk],
            champ=Champ.CONTACTS_INFORMATION,
            valeur=[etranger],
        )
        attendu = "Ce contact n'est pas un contact actif de l'organisme de cette session."
        assert resultat.refusees[0].raisons == [attendu]
        assert not session.session_contacts.exists()

    def test_un_lieu_d_un_autre_organisme_est_refuse(self, organisme, saisisseur):
        session = session_de(organisme)
        resultat = modifier_sessions_en_masse(
            user=saisisseur.user,
            organisme=organisme,
            session_ids=[session.pk],
            champ=Champ.LIEUX,
            valeur=[LieuFactory()],
        )
        attendu = "Ce lieu n'est pas un lieu de formation de l'organisme de cette session."
        assert resultat.refusees[0].raisons == [attendu]

    def test_etat_du_recrutement(self, organisme, saisisseur):
        session = session_de(organisme)
        resultat = modifier_sessions_en_masse(
            user=saisisseur.user,
            organisme=organisme,
            session_ids=[session.pk],
            champ=Champ.ETAT_RECRUTEMENT,
            valeur=EtatRecrutement.FERME,
        )
        assert (resultat.modifiees[0].avant, resultat.modifiees[0].apres) == ("Ouvert", "Fermé")
        assert relire(session).etat_recrutement == EtatRecrutement.FERME

    def test_periode_d_inscription(self, organisme, saisisseur):
        session = session_de(organisme)
        resultat = modifier_sessions_en_masse(
            user=saisisseur.user,
            organisme=organisme,
            session_ids=[session.pk],
            champ=Champ.PERIODE_INSCRIPTION,
            valeur=(D(2027, 1, 4), D(2027, 2, 26)),
        )
        assert resultat.modifiees[0].apres == "du 04/01/2027 au 26/02/2027"
        session = relire(session)
        assert (session.inscription_debut, session.inscription_fin) == (D(2027, 1, 4), D(2027, 2, 26))

    def test_periode_d_inscription_a_l_envers_refusee_avant_tout(self, organisme, saisisseur):
        session = session_de(organisme)
        with pytest.raises(ValidationError) as exc:
            modifier_sessions_en_masse(
                user=saisisseur.user,
                organisme=organisme,
                session_ids=[session.pk],
                champ=Champ.PERIODE_INSCRIPTION,
                valeur=(D(2027, 3, 1), D(2027, 2, 1)),
            )
        assert exc.value.message_dict == {
            "valeur": ["La fin des inscriptions doit être postérieure ou égale à leur début."]
        }
        assert relire(session).inscription_debut is None

    def test_prix_un_prix_vide_reste_inchange(self, organisme, saisisseur):
        session = session_de(organisme)
        session.action.prix_horaire_ttc = Decimal("12.50")
        session.action.save()
        resultat = modifier_sessions_en_masse(
            user=saisisseur.user,
            organisme=organisme,
            session_ids=[session.pk],
            champ=Champ.PRIX,
            valeur={"prix_total_ttc": Decimal("1250.00"), "prix_horaire_ttc": None},
        )
        assert resultat.modifiees[0].apres == "total 1\u202f250,00 €, horaire 12,50 €"
        action = relire(session).action
        assert (action.prix_total_ttc, action.prix_horaire_ttc) == (Decimal("1250.00"), Decimal("12.50"))

    def test_dispositif(self, organisme, saisisseur):
        session = session_de(organisme)
        modifier_sessions_en_masse(
            user=saisisseur.user,
            organisme=organisme,
            session_ids=[session.pk],
            champ=Champ.DISPOSITIF,
            valeur=Dispositif.AIF,
        )
        assert relire(session).action.dispositif == Dispositif.AIF

    def test_une_valeur_deja_en_place_ne_remet_pas_en_validation(self, organisme, saisisseur):
        session = session_de(organisme, validee=True)
        resultat = modifier_sessions_en_masse(
            user=saisisseur.user,
            organisme=organisme,
            session_ids=[session.pk],
            champ=Champ.ETAT_RECRUTEMENT,
            valeur=EtatRecrutement.OUVERT,
        )
        assert resultat.inchangees[0].raisons == [MESSAGE_INCHANGEE]
        assert relire(session).etat == Etat.VALIDEE

    @pytest.mark.parametrize(
        "champ, valeur",
        [
            (Champ.DISPOSITIF, "inconnu"),
            (Champ.ETAT_RECRUTEMENT, "9"),
            (Champ.LIEUX, []),
            (Champ.PRIX, {}),
            (Champ.PRIX, {"prix_total_ttc": Decimal("-1")}),
            (Champ.PERIODE_INSCRIPTION, (None, D(2027, 1, 1))),
            ("numero", "X"),
        ],
    )
    def test_une_valeur_invalide_est_refusee_sans_rien_ecrire(self, organisme, saisisseur, champ, valeur):
        session = session_de(organisme)
        with pytest.raises(ValidationError):
            modifier_sessions_en_masse(
                user=saisisseur.user, organisme=organisme, session_ids=[session.pk], champ=champ, valeur=valeur
            )
        assert relire(session).version == session.version


def test_aucune_session_cochee(organisme, saisisseur):
    with pytest.raises(ValidationError) as exc:
        modifier_sessions_en_masse(
            user=saisisseur.user, organisme=organisme, session_ids=[], champ=Champ.DISPOSITIF, valeur="cpf"
        )
    assert exc.value.message_dict == {"sessions": ["Cochez au moins une session."]}
