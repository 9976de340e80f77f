"""{% load messagerie %}{% badge_messagerie as n %}: the unread count of the badge, for the menu or a header.

For a contact: unread notices of its current organisme (but those announcing a message) + unread
messages; for staff: unread messages from the organismes. 0 for an anonymous visitor.
"""

from django import template

from ofeli.organismes.gate import current_contact

from ..services import badge_count

register = template.Library()


@register.simple_tag(takes_context=True)
def badge_messagerie(context) -> int:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return 0
    if request.user.is_staff:
        return badge_count(user=request.user)
    contact = current_contact(request)
    if contact is None:
        return 0
    return badge_count(user=request.user, organisme=contact.organisme)
