from django import template

from ofeli.organismes.gate import active_contacts, current_contact

register = template.Library()


@register.inclusion_tag("organismes/_switcher.html", takes_context=True)
def organisme_switcher(context):
    """The organisme the user works on and, for a contact of several OFs, a form to switch."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated or request.user.is_staff:
        return {"courant": None, "contacts": []}
    courant = current_contact(request)
    contacts = list(active_contacts(request.user)) if courant else []
    return {
        "courant": courant,
        "contacts": contacts,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
