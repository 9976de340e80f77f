"""The left menu of the guide. An entry whose URL name is not (yet) routed is not shown."""

from django.urls import NoReverseMatch, reverse

OF_MENU = [
    ("Tableau de bord", "core:tableau_de_bord"),
    ("Organisme", "organismes:fiche"),
    ("Contacts", "organismes:contacts"),
    ("Formations", "recherche:formations"),
    ("Messagerie", "messagerie:fils"),
    ("Exports", "exports:liste"),
    ("Aide", "core:aide"),
]

STAFF_MENU = [
    ("Accueil équipe offre", "core:staff_home"),
    ("Demandes de compte", "accounts:demandes"),
    ("Validation", "validation:file"),
    ("Organismes", "organismes:staff_liste"),
    ("Formations", "recherche:formations"),
    ("Messagerie", "messagerie:fils"),
    ("Exports", "exports:liste"),
    ("Imports", "diffusion:imports"),
    ("Diffusion", "diffusion:runs"),
    ("Partenaires", "diffusion:partenaires"),
    ("Courriels envoyés (développement)", "core:mail_outbox"),
]


def menu_for(request):
    user = request.user
    if not user.is_authenticated:
        return []
    entries = STAFF_MENU if user.is_staff else OF_MENU
    items = []
    for label, name in entries:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        item = {"label": label, "url": url, "active": False, "badge": 0}
        if name == "messagerie:fils":
            item["badge"] = _badge(request)
        items.append(item)
    # The active entry is the one whose URL is the longest prefix of the current path.
    matching = [
        i for i in items if request.path == i["url"] or (len(i["url"]) > 1 and request.path.startswith(i["url"]))
    ]
    if matching:
        max(matching, key=lambda i: len(i["url"]))["active"] = True
    return items


def _badge(request) -> int:
    """Unread notices and messages of the user (for the current organisme of an OF contact)."""
    from ofeli.messagerie.services import badge_count
    from ofeli.organismes.gate import current_contact

    contact = current_contact(request)
    return badge_count(user=request.user, organisme=contact.organisme if contact else None)
