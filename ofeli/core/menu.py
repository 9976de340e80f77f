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
        active = request.path == url or (url != "/" and request.path.startswith(url) and len(url) > 1)
        items.append({"label": label, "url": url, "active": active})
    return items
