"""The left menu of the guide. An entry whose URL name is not (yet) routed is not shown."""

from django.urls import NoReverseMatch, reverse

# Pages that belong to an entry without living under its URL (the formation pages, reached from the search).
EXTRA_PREFIXES = {"recherche:formations": ("/offre/",)}

OF_MENU = [
    ("Tableau de bord", "core:tableau_de_bord"),
    ("Organisme", "organismes:fiche"),
    ("Contacts", "organismes:contacts"),
    ("Formations", "recherche:formations"),
    ("Importer un tableur", "tableur:accueil", "saisir"),
    ("Messagerie", "messagerie:fils"),
    ("Exports", "exports:liste"),
    ("Aide", "core:aide"),
]

STAFF_MENU = [
    ("Accueil équipe offre", "core:staff_home"),
    ("Demandes de compte", "accounts:demandes"),
    ("Validation", "validation:file"),
    ("Campagnes", "campagnes:liste"),
    ("Organismes", "organismes:staff_liste"),
    ("Formations", "recherche:formations"),
    ("Messagerie", "messagerie:fils"),
    ("Exports", "exports:liste"),
    ("Imports", "diffusion:imports"),
    ("Diffusion", "diffusion:runs"),
    ("Partenaires", "diffusion:partenaires"),
    ("Double authentification", "accounts:otp_appareils"),
    ("Courriels envoyés (développement)", "core:mail_outbox"),
]


def menu_for(request):
    user = getattr(request, "user", None)  # absent on a page rendered before authentication (400, CSRF failure)
    if user is None or not user.is_authenticated:
        return []
    from ofeli.accounts import otp

    if otp.exige(user) and not otp.est_verifie(user):
        return []  # a staff session waiting for its second factor: every entry would lead back to the code page
    entries = STAFF_MENU if user.is_staff else OF_MENU
    items = []
    for label, name, *droit in entries:
        if droit and not _peut(request, droit[0]):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        item = {
            "label": label,
            "url": url,
            "active": False,
            "badge": 0,
            "prefixes": (url, *EXTRA_PREFIXES.get(name, ())),
        }
        if name == "messagerie:fils":
            item["badge"] = _badge(request)
        items.append(item)
    # The active entry is the one with the longest prefix of the current path.
    matches = [(len(p), item) for item in items for p in item["prefixes"] if len(p) > 1 and request.path.startswith(p)]
    if matches:
        max(matches, key=lambda m: m[0])[1]["active"] = True
    return items


def _peut(request, droit: str) -> bool:
    """An entry for contacts with a right ("saisir") is hidden from the others (the page would refuse them)."""
    from ofeli.organismes.gate import Intent, contact_allows, current_contact

    contact = current_contact(request)
    return contact is not None and contact_allows(contact, Intent.SAISIR if droit == "saisir" else Intent.GERER)


def _badge(request) -> int:
    """Unread notices and messages of the user (for the current organisme of an OF contact)."""
    from ofeli.messagerie.services import badge_count
    from ofeli.organismes.gate import current_contact

    contact = current_contact(request)
    return badge_count(user=request.user, organisme=contact.organisme if contact else None)
