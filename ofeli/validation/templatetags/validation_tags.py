"""Template tags for other apps' screens: `{% load validation_tags %}`.

- `{% demandes_complement formation %}`: the open requests for complement of a formation (and of
  its sessions), each with its message, a link to the screen to fix and, for a contact with the
  right "saisir", the box "J'ai effectué les corrections" that sends it back to validation.
"""

from django import template

from ofeli.validation.models import DemandeComplement

register = template.Library()


@register.inclusion_tag("validation/_demandes_complement.html", takes_context=True)
def demandes_complement(context, formation):
    request = context.get("request")
    user = getattr(request, "user", None)
    contact = getattr(request, "contact", None)
    peut_saisir = bool(user and (user.is_staff or (contact is not None and contact.peut_saisir)))
    return {
        "demandes": DemandeComplement.objects.ouvertes().filter(formation=formation).select_related("session"),
        "peut_saisir": peut_saisir,
        "csrf_token": context.get("csrf_token"),
        "next": request.get_full_path() if request is not None else "",
    }
