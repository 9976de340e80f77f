import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from ofeli.messagerie.models import Message, Notification
from ofeli.offre.models import Dispositif, Etat
from ofeli.validation import workflow
from ofeli.validation.models import DemandeComplement, Publication, Transition, publication_courante
from tests.factories import ActionFactory, FormationFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def _recharger(*objs):
    for o in objs:
        o.refresh_from_db()


def test_soumettre_sends_formation_and_draft_sessions(organisme, saisisseur):
    session = SessionFactory(action__formation=FormationFactory(organisme=organisme))
    formation = session.action.formation
    workflow.formation_soumettre(formation=formation, user=saisisseur.user)
    _recharger(formation, session)
    assert formation.etat == Etat.EN_ATTENTE and formation.soumise_at
    assert session.etat == Etat.EN_ATTENTE
    t = Transition.objects.filter(formation=formation, objet="formation").get()
    assert (t.etat_avant, t.etat_apres, t.acteur, t.user) == (Etat.BROUILLON, Etat.EN_ATTENTE, "of", saisisseur.user)


def test_soumettre_refused_without_saisir_right(organisme, lecteur):
    formation = FormationFactory(organisme=organisme)
    with pytest.raises(PermissionDenied):
        workflow.formation_soumettre(formation=formation, user=lecteur.user)


def test_soumettre_refused_for_another_organisme(saisisseur):
    formation = FormationFactory()
    with pytest.raises(PermissionDenied):
        workflow.formation_soumettre(formation=formation, user=saisisseur.user)


def test_valider_gives_numbers_and_publishes(formation_soumise, session_soumise, staff_user, saisisseur):
    publication = workflow.formation_valider(formation=formation_soumise, user=staff_user)
    action = session_soumise.action
    _recharger(formation_soumise, session_soumise, action)
    assert formation_soumise.etat == action.etat == session_soumise.etat == Etat.VALIDEE
    assert formation_soumise.numero.endswith("F")
    assert action.numero.endswith("A")
    assert session_soumise.numero.endswith("S")
    assert publication_courante(formation_soumise) == publication
    assert publication.numero == 1 and publication.validated_by == staff_user
    assert publication.data["formation"]["intitule"] == formation_soumise.intitule
    assert publication.data["formation"]["numero"] == formation_soumise.numero
    assert [s["numero"] for s in publication.sessions] == [session_soumise.numero]
    assert Notification.objects.filter(user=saisisseur.user, type="validation").exists()


def test_valider_twice_is_refused(formation_soumise, staff_user):
    workflow.formation_valider(formation=formation_soumise, user=staff_user)
    with pytest.raises(ValidationError) as exc:
        workflow.formation_valider(formation=formation_soumise, user=staff_user)
    assert exc.value.code == "transition"


def test_stale_version_is_refused(formation_soumise, staff_user):
    vue = formation_soumise.version
    workflow.formation_demander_complement(formation=formation_soumise, user=staff_user, message="Précisez le contenu")
    with pytest.raises(ValidationError) as exc:
        workflow.formation_valider(formation=formation_soumise, user=staff_user, version=vue)
    assert exc.value.code == "version"


def test_only_staff_validate(formation_soumise, gestionnaire):
    with pytest.raises(PermissionDenied):
        workflow.formation_valider(formation=formation_soumise, user=gestionnaire.user)


def test_brouillon_cannot_be_validated(organisme, staff_user):
    formation = FormationFactory(organisme=organisme)
    with pytest.raises(ValidationError):
        workflow.formation_valider(formation=formation, user=staff_user)


def test_numbers_are_kept_on_revalidation(formation_soumise, session_soumise, staff_user, saisisseur):
    workflow.formation_valider(formation=formation_soumise, user=staff_user)
    formation_soumise.refresh_from_db()
    numero = formation_soumise.numero
    workflow.marquer_modifie(obj=formation_soumise, user=saisisseur.user)
    workflow.formation_valider(formation=formation_soumise, user=staff_user)
    formation_soumise.refresh_from_db()
    assert formation_soumise.numero == numero
    assert Publication.objects.filter(formation=formation_soumise).count() == 2
    ancienne = Publication.objects.get(formation=formation_soumise, numero=1)
    assert ancienne.closed_at and ancienne.closed_reason == Publication.Fermeture.REMPLACEE
    assert Publication.objects.courantes().get(formation=formation_soumise).numero == 2


def test_modified_formation_stays_diffused_until_validated(formation_soumise, staff_user, saisisseur):
    workflow.formation_valider(formation=formation_soumise, user=staff_user)
    formation_soumise.refresh_from_db()
    ancien = formation_soumise.intitule
    formation_soumise.intitule = "Nouvel intitulé"
    formation_soumise.save()
    workflow.marquer_modifie(obj=formation_soumise, user=saisisseur.user)
    formation_soumise.refresh_from_db()
    assert formation_soumise.etat == Etat.EN_ATTENTE
    courante = publication_courante(formation_soumise)
    assert courante.data["formation"]["intitule"] == ancien
    workflow.formation_valider(formation=formation_soumise, user=staff_user)
    assert publication_courante(formation_soumise).data["formation"]["intitule"] == "Nouvel intitulé"


def test_pending_session_keeps_published_version(formation_soumise, session_soumise, staff_user, saisisseur):
    workflow.formation_valider(formation=formation_soumise, user=staff_user)
    session_soumise.refresh_from_db()
    session_soumise.places_restantes = 3
    session_soumise.save()
    workflow.marquer_modifie(obj=session_soumise, user=saisisseur.user)
    # a new session of the same formation, validated alone: the modified one keeps its published version
    nouvelle = SessionFactory(action=session_soumise.action, etat=Etat.BROUILLON)
    workflow.session_soumettre(session=nouvelle, user=saisisseur.user)
    workflow.session_valider(session=nouvelle, user=staff_user)
    courante = publication_courante(formation_soumise)
    publiees = {s["id"]: s for s in courante.sessions}
    assert set(publiees) == {session_soumise.pk, nouvelle.pk}
    assert publiees[session_soumise.pk]["places_restantes"] is None
    session_soumise.refresh_from_db()
    assert session_soumise.etat == Etat.EN_ATTENTE


def test_session_alone_needs_a_validated_formation(formation_soumise, session_soumise, staff_user):
    with pytest.raises(ValidationError, match="validez la formation"):
        workflow.session_valider(session=session_soumise, user=staff_user)


def test_complement_round_trip(formation_soumise, session_soumise, staff_user, saisisseur):
    demande = workflow.formation_demander_complement(
        formation=formation_soumise, user=staff_user, message="Indiquez les prérequis."
    )
    _recharger(formation_soumise, session_soumise)
    assert formation_soumise.etat == Etat.COMPLEMENT
    assert session_soumise.etat == Etat.COMPLEMENT
    message = Message.objects.get(fil__formation=formation_soumise)
    assert message.texte == "Indiquez les prérequis." and message.lien
    assert Notification.objects.filter(user=saisisseur.user, type="complement").exists()
    workflow.complement_corrections_effectuees(demande=demande, user=saisisseur.user)
    _recharger(formation_soumise, session_soumise, demande)
    assert formation_soumise.etat == session_soumise.etat == Etat.EN_ATTENTE
    assert demande.statut == DemandeComplement.Statut.CORRIGEE
    with pytest.raises(ValidationError):
        workflow.complement_corrections_effectuees(demande=demande, user=saisisseur.user)


def test_complement_needs_a_message(formation_soumise, staff_user):
    with pytest.raises(ValidationError) as exc:
        workflow.formation_demander_complement(formation=formation_soumise, user=staff_user, message="  ")
    assert "message" in exc.value.message_dict


def test_complement_cancelled_keeps_its_message(formation_soumise, staff_user, saisisseur):
    demande = workflow.formation_demander_complement(formation=formation_soumise, user=staff_user, message="Photo ?")
    workflow.complement_annuler(demande=demande, user=staff_user)
    _recharger(formation_soumise, demande)
    assert formation_soumise.etat == Etat.EN_ATTENTE
    assert demande.statut == DemandeComplement.Statut.ANNULEE and demande.message == "Photo ?"
    assert Transition.objects.filter(formation=formation_soumise, message="Photo ?").exists()
    with pytest.raises(PermissionDenied):
        workflow.complement_annuler(demande=demande, user=saisisseur.user)


def test_soumettre_from_complement_answers_the_request(formation_soumise, staff_user, saisisseur):
    demande = workflow.formation_demander_complement(formation=formation_soumise, user=staff_user, message="Prix ?")
    workflow.formation_soumettre(formation=formation_soumise, user=saisisseur.user)
    demande.refresh_from_db()
    assert demande.statut == DemandeComplement.Statut.CORRIGEE


def test_refuser_closes_publication_and_notifies(formation_soumise, session_soumise, staff_user, saisisseur):
    workflow.formation_valider(formation=formation_soumise, user=staff_user)
    formation_soumise.refresh_from_db()
    workflow.formation_refuser(formation=formation_soumise, user=staff_user, motif="Formation hors champ")
    _recharger(formation_soumise, session_soumise)
    assert formation_soumise.etat == session_soumise.etat == Etat.NON_DIFFUSEE
    assert publication_courante(formation_soumise) is None
    assert Publication.objects.get(formation=formation_soumise).closed_reason == Publication.Fermeture.NON_DIFFUSEE
    notif = Notification.objects.get(user=saisisseur.user, type="refus")
    assert "Formation hors champ" in notif.texte
    assert Transition.objects.filter(formation=formation_soumise, message="Formation hors champ").exists()


def test_refuser_needs_a_reason(formation_soumise, staff_user):
    with pytest.raises(ValidationError) as exc:
        workflow.formation_refuser(formation=formation_soumise, user=staff_user, motif="")
    assert "motif" in exc.value.message_dict


def test_archiver_closes_publication(formation_soumise, session_soumise, staff_user, saisisseur):
    workflow.formation_valider(formation=formation_soumise, user=staff_user)
    workflow.formation_archiver(formation=formation_soumise, user=saisisseur.user)
    _recharger(formation_soumise, session_soumise)
    assert formation_soumise.etat == session_soumise.etat == Etat.ARCHIVE_OF
    assert Publication.objects.get(formation=formation_soumise).closed_reason == Publication.Fermeture.ARCHIVEE
    with pytest.raises(ValidationError):
        workflow.formation_archiver(formation=formation_soumise, user=saisisseur.user)


def test_session_archiver_republishes_without_it(formation_soumise, session_soumise, staff_user, saisisseur):
    autre = SessionFactory(action=session_soumise.action, etat=Etat.EN_ATTENTE)
    workflow.formation_valider(formation=formation_soumise, user=staff_user)
    workflow.session_archiver(session=autre, user=saisisseur.user)
    courante = publication_courante(formation_soumise)
    assert courante.numero == 2
    assert [s["id"] for s in courante.sessions] == [session_soumise.pk]


def test_fonds_publics_flag(organisme, staff_user):
    session = SessionFactory(
        action=ActionFactory(formation=FormationFactory(organisme=organisme, soumise=True), dispositif=Dispositif.AIF)
    )
    publication = workflow.formation_valider(formation=session.action.formation, user=staff_user)
    assert publication.fonds_publics


def test_one_current_publication_per_formation_is_enforced(formation_soumise, staff_user):
    publication = workflow.formation_valider(formation=formation_soumise, user=staff_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Publication.objects.create(
            formation=formation_soumise,
            organisme=formation_soumise.organisme,
            numero=2,
            data={},
            validated_at=publication.validated_at,
        )


@pytest.mark.parametrize(
    ("avant", "apres", "acteur", "permis"),
    [
        (Etat.BROUILLON, Etat.EN_ATTENTE, "of", True),
        (Etat.BROUILLON, Etat.VALIDEE, "staff", False),
        (Etat.EN_ATTENTE, Etat.VALIDEE, "staff", True),
        (Etat.EN_ATTENTE, Etat.VALIDEE, "of", False),
        (Etat.EN_ATTENTE, Etat.COMPLEMENT, "staff", True),
        (Etat.EN_ATTENTE, Etat.COMPLEMENT, "of", False),
        (Etat.COMPLEMENT, Etat.EN_ATTENTE, "of", True),
        (Etat.COMPLEMENT, Etat.VALIDEE, "staff", False),
        (Etat.EN_ATTENTE, Etat.NON_DIFFUSEE, "staff", True),
        (Etat.EN_ATTENTE, Etat.NON_DIFFUSEE, "of", False),
        (Etat.VALIDEE, Etat.EN_ATTENTE, "system", True),
        (Etat.VALIDEE, Etat.ARCHIVE_OF, "of", True),
        (Etat.VALIDEE, Etat.ARCHIVE_OF, "staff", True),
        (Etat.ARCHIVE_OF, Etat.EN_ATTENTE, "of", False),
        (Etat.ARCHIVE_OF, Etat.VALIDEE, "staff", False),
    ],
)
def test_transition_table(avant, apres, acteur, permis):
    assert workflow.peut_passer(avant, apres, acteur) is permis


def test_marquer_modifie_ignores_drafts(organisme):
    formation = FormationFactory(organisme=organisme)
    workflow.marquer_modifie(obj=formation, user=UserFactory())
    formation.refresh_from_db()
    assert formation.etat == Etat.BROUILLON


def test_modified_session_keeps_published_action(formation_soumise, session_soumise, staff_user, saisisseur):
    workflow.formation_valider(formation=formation_soumise, user=staff_user)
    action = session_soumise.action
    action.refresh_from_db()
    rythme = action.rythme
    action.rythme = "Soir et week-end"
    action.save()
    session_soumise.refresh_from_db()
    workflow.marquer_modifie(obj=session_soumise, user=saisisseur.user)
    action.refresh_from_db()
    assert action.etat == Etat.EN_ATTENTE
    assert publication_courante(formation_soumise).data["actions"][0]["rythme"] == rythme
    autre = SessionFactory(action=action, etat=Etat.BROUILLON)
    workflow.session_soumettre(session=autre, user=saisisseur.user)
    workflow.session_valider(session=autre, user=staff_user)
    # validating the new session validates the action with it: its new version is published
    assert publication_courante(formation_soumise).data["actions"][0]["rythme"] == "Soir et week-end"


def test_session_complement_then_validation(formation_soumise, staff_user, saisisseur):
    workflow.formation_valider(formation=formation_soumise, user=staff_user)
    nouvelle = SessionFactory(action=formation_soumise.actions.get(), etat=Etat.BROUILLON)
    workflow.session_soumettre(session=nouvelle, user=saisisseur.user)
    demande = workflow.session_demander_complement(session=nouvelle, user=staff_user, message="Lieu ?")
    nouvelle.refresh_from_db()
    formation_soumise.refresh_from_db()
    assert nouvelle.etat == Etat.COMPLEMENT and formation_soumise.etat == Etat.VALIDEE
    assert Message.objects.get(fil__session=nouvelle).lien.endswith(f"/sessions/{nouvelle.pk}/")
    workflow.session_soumettre(session=nouvelle, user=saisisseur.user)  # same as ticking the box
    demande.refresh_from_db()
    assert demande.statut == DemandeComplement.Statut.CORRIGEE
    workflow.session_valider(session=nouvelle, user=staff_user)
    nouvelle.refresh_from_db()
    assert nouvelle.etat == Etat.VALIDEE
    assert nouvelle.pk in {s["id"] for s in publication_courante(formation_soumise).sessions}
