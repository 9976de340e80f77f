"""The gate for an OF's data (design note 3): one way to reach an organisme for a user.

A person may be a contact of several organismes; the one they work on is kept in the
session ("organisme courant"). Rights are per organisme:

    READ    every active contact ("consulter")
    SAISIR  contact.peut_saisir ("saisir l'offre")
    GERER   contact.peut_gerer ("gérer l'organisme et ses contacts")

Staff (équipe offre) pass every gate. Views use `of_required(intent)`, which sets
`request.contact` and `request.organisme`; object gates for the offer (ofeli.offre.gate) build
on `organisme_scope`. An object of another organisme is a 404, a missing right on one's own
organisme a 403.
"""

import enum
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Contact, Organisme

SESSION_KEY = "ofeli_organisme_id"


class Intent(enum.Enum):
    READ = "read"
    SAISIR = "saisir"
    GERER = "gerer"


def contact_allows(contact: Contact, intent: Intent) -> bool:
    if not contact.actif:
        return False
    if intent is Intent.READ:
        return True
    if intent is Intent.SAISIR:
        return contact.peut_saisir
    return contact.peut_gerer


def active_contacts(user):
    return (
        Contact.objects.filter(user=user, actif=True, organisme__actif=True)
        .select_related("organisme")
        .order_by("organisme__raison_sociale")
    )


def current_contact(request) -> Contact | None:
    """The contact row of the organisme the user is working on, or None (staff, no membership)."""
    if hasattr(request, "_ofeli_contact"):
        return request._ofeli_contact
    contact = None
    user = request.user
    if user.is_authenticated and not user.is_staff:
        contacts = list(active_contacts(user))
        wanted = request.session.get(SESSION_KEY)
        contact = next((c for c in contacts if c.organisme_id == wanted), None) or (contacts[0] if contacts else None)
        if contact and wanted != contact.organisme_id:
            request.session[SESSION_KEY] = contact.organisme_id
    request._ofeli_contact = contact
    return contact


def switch_organisme(request, organisme_id: int) -> Contact:
    contact = active_contacts(request.user).filter(organisme_id=organisme_id).first()
    if contact is None:
        raise Http404
    request.session[SESSION_KEY] = organisme_id
    request._ofeli_contact = contact
    return contact


def check(request, intent: Intent) -> Contact | None:
    """Returns the current contact (None for staff) or raises PermissionDenied."""
    if request.user.is_staff:
        return None
    contact = current_contact(request)
    if contact is None or not contact_allows(contact, intent):
        raise PermissionDenied
    return contact


def organisme_scope(request, queryset, field: str = "organisme"):
    """Restricts a queryset of OF data to what the user may see: all for staff, the current OF otherwise."""
    if request.user.is_staff:
        return queryset
    contact = current_contact(request)
    if contact is None:
        return queryset.none()
    return queryset.filter(**{field: contact.organisme_id})


def get_organisme_for(request, pk: int, intent: Intent) -> Organisme:
    """Staff reach any organisme; a contact only their current one (404 otherwise)."""
    if request.user.is_staff:
        try:
            return Organisme.objects.get(pk=pk)
        except Organisme.DoesNotExist:
            raise Http404 from None
    contact = current_contact(request)
    if contact is None or contact.organisme_id != pk:
        raise Http404
    if not contact_allows(contact, intent):
        raise PermissionDenied
    return contact.organisme


def of_required(intent: Intent = Intent.READ):
    """View decorator for OF screens: login, an active contact with the right (staff pass).

    Sets request.contact (None for staff) and request.organisme (None for staff unless the
    view reaches one itself).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            request.contact = check(request, intent)
            request.organisme = request.contact.organisme if request.contact else None
            return view(request, *args, **kwargs)

        wrapper.ofeli_gate = f"of:{intent.value}"
        return wrapper

    return decorator


def public(view):
    """Marks a view as deliberately open (no login): the URL-walk test requires a mark on every view."""
    view.ofeli_gate = "public"
    return view


def authenticated(view):
    """A view for any logged-in user that touches only the user's own data."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.ofeli_gate = "self"
    return wrapper
