"""The one workflow of the offer (design note 2): states, who may move what where, one function per transition.

Owned by the validation app. ofeli.offre calls `formation_soumettre`, `session_soumettre` and
`marquer_modifie`; the équipe offre's screens call the staff transitions.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ofeli.offre.models import Etat, Formation, Session

# (from, to) -> who may trigger it: "of" (contact with the right "saisir"), "staff", "system".
TRANSITIONS = {
    (Etat.BROUILLON, Etat.EN_ATTENTE): {"of"},
    (Etat.COMPLEMENT, Etat.EN_ATTENTE): {"of"},
    (Etat.VALIDEE, Etat.EN_ATTENTE): {"of", "system"},
    (Etat.NON_DIFFUSEE, Etat.EN_ATTENTE): {"of"},
    (Etat.EN_ATTENTE, Etat.VALIDEE): {"staff"},
    (Etat.EN_ATTENTE, Etat.COMPLEMENT): {"staff"},
    (Etat.EN_ATTENTE, Etat.NON_DIFFUSEE): {"staff"},
    (Etat.VALIDEE, Etat.NON_DIFFUSEE): {"staff"},
    (Etat.BROUILLON, Etat.ARCHIVE_OF): {"of"},
    (Etat.VALIDEE, Etat.ARCHIVE_OF): {"of"},
    (Etat.NON_DIFFUSEE, Etat.ARCHIVE_OF): {"of"},
    (Etat.COMPLEMENT, Etat.ARCHIVE_OF): {"of"},
}


def peut_passer(etat_actuel: str, etat_cible: str, acteur: str) -> bool:
    return acteur in TRANSITIONS.get((etat_actuel, etat_cible), set())


def _verifier(obj, cible, acteur):
    if not peut_passer(obj.etat, cible, acteur):
        raise ValidationError(
            f"Impossible de passer de « {Etat(obj.etat).label} » à « {Etat(cible).label} ».", code="transition"
        )


@transaction.atomic
def formation_soumettre(*, formation: Formation, user) -> Formation:
    """The OF sends a formation (and its sessions in brouillon or complement) to the GIP's validation."""
    formation = Formation.objects.select_for_update().get(pk=formation.pk)
    _verifier(formation, Etat.EN_ATTENTE, "of")
    now = timezone.now()
    formation.etat = Etat.EN_ATTENTE
    formation.soumise_at = now
    formation.save(update_fields=["etat", "soumise_at", "updated_at"])
    Session.objects.filter(action__formation=formation, etat__in=[Etat.BROUILLON, Etat.COMPLEMENT]).update(
        etat=Etat.EN_ATTENTE, soumise_at=now
    )
    return formation


@transaction.atomic
def session_soumettre(*, session: Session, user) -> Session:
    session = Session.objects.select_for_update().get(pk=session.pk)
    _verifier(session, Etat.EN_ATTENTE, "of")
    session.etat = Etat.EN_ATTENTE
    session.soumise_at = timezone.now()
    session.save(update_fields=["etat", "soumise_at", "updated_at"])
    return session


def marquer_modifie(*, obj, user):
    """Called by ofeli.offre.services after any save of a formation or a session.

    A change to something validated (or not diffused) puts it back in validation; the validated
    version (its publication) stays diffused until the new one is validated. Must be called
    inside the transaction of the save.
    """
    if obj.etat in (Etat.VALIDEE, Etat.NON_DIFFUSEE):
        obj.etat = Etat.EN_ATTENTE
        obj.soumise_at = timezone.now()
        obj.save(update_fields=["etat", "soumise_at", "updated_at"])
    return obj
