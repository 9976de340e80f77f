"""The gate for the offer (design note 3): the only way views reach a formation, a session or an attachment.

- an object of another organisme: 404; a missing right on one's own organisme: 403; staff pass these checks.
- intent SAISIR is also refused, with the guide's text (SaisieRefusee, a 403), when the formation's source
  does not let an OF change it: Région (EOS), AFC and POEC are read-only; apprentissage and scolaire
  allow adding (and updating) sessions only, never creating or changing the formation. This binds
  staff too on these screens: those data come from trusted imports, which overwrite them.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from ofeli.organismes.gate import Intent, check, organisme_scope

from . import rules
from .models import SOURCES_SAISIE_LIBRE, SOURCES_SESSIONS_SEULEMENT, Formation, PieceJointe, Session


class SaisieRefusee(PermissionDenied):
    """A 403 whose message (the guide's text on whom to contact) is shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _refuser_si_source(formation: Formation, *, session: bool):
    allowed = SOURCES_SAISIE_LIBRE | (SOURCES_SESSIONS_SEULEMENT if session else set())
    if formation.source not in allowed:
        raise SaisieRefusee(rules.message_source(formation.source))


def get_formation_for(request, pk: int, intent: Intent, *, pour_session: bool = False) -> Formation:
    """The formation `pk` for this user and intent.

    `pour_session=True` with SAISIR: the user means to add or change one of its sessions (allowed for
    apprentissage and scolaire formations); otherwise SAISIR means changing the formation itself.
    """
    check(request, intent)
    qs = organisme_scope(request, Formation.objects.select_related("organisme"))
    try:
        formation = qs.get(pk=pk)
    except Formation.DoesNotExist:
        raise Http404 from None
    if intent is Intent.SAISIR:
        _refuser_si_source(formation, session=pour_session)
    return formation


def get_session_for(request, pk: int, intent: Intent) -> Session:
    check(request, intent)
    qs = organisme_scope(
        request,
        Session.objects.select_related("action__formation__organisme", "action__organisme_formateur"),
        field="action__formation__organisme",
    )
    try:
        session = qs.get(pk=pk)
    except Session.DoesNotExist:
        raise Http404 from None
    if intent is Intent.SAISIR:
        _refuser_si_source(session.action.formation, session=True)
    return session


def get_piece_jointe_for(request, pk: int) -> PieceJointe:
    """Attachments are read by the OF's active contacts (every right) and staff only."""
    check(request, Intent.READ)
    qs = organisme_scope(request, PieceJointe.objects.all())
    try:
        return qs.get(pk=pk)
    except PieceJointe.DoesNotExist:
        raise Http404 from None
