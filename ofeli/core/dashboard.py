"""The OF's tableau de bord ("Que contient mon tableau de bord ?").

The counters of the guide, each a link to the matching list, then what needs the OF's attention
(sessions ending soon or ended but still open to recruitment, drafts, requests for complement,
unread messages and notices) and links to manage the organisme, its contacts and its formations.

Definitions (for one organisme, on its formations, whatever their source):
- "Formations diffusées": formations with a current publication (validation.Publication with
  closed_at null). A diffused formation being changed stays diffused (its last validated version)
  until the change is validated.
- "Formations fonds publics diffusées": diffused formations whose current publication is
  `fonds_publics` (at least one validated action of a dispositif in DISPOSITIFS_FONDS_PUBLICS).
- "Formations en attente de validation": formations in the state "en_attente" (submitted or
  changed, waiting for the équipe offre), diffused or not.
- "Formations non diffusées": formations without a current publication, except those the OF
  archived ("Archive OF"): drafts, submitted and never validated, waiting for a complement,
  refused / withdrawn by the GIP. So diffusées + non diffusées + archived-and-not-diffused = all.
- "Erreur liens site internet": see `erreurs_liens_site_internet`.

Every counter comes from one aggregate query, so the page costs a bounded number of queries
whatever the size of the offer.
"""

import datetime

from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode

from ofeli.messagerie import services as messagerie
from ofeli.messagerie.models import Notification, TypeNotification
from ofeli.offre.models import Etat, EtatRecrutement, Formation, Session
from ofeli.organismes.gate import Intent, of_required
from ofeli.validation.models import DemandeComplement, Publication

from .region import current_region

FIN_PROCHE_JOURS = 30
LISTE_MAX = 10


def lien(name: str, *args, query: dict | list | None = None) -> str | None:
    """The URL of a route, or None when that route does not exist (yet): the page only links to what exists."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


def lien_liste_formations(query: dict) -> str | None:
    """The search page of the offer (recherche:formations) filtered by `query`, else the OF's list of formations."""
    return lien("recherche:formations", query=query) or lien("offre:formations_liste", query=query)


def erreurs_liens_site_internet(organisme) -> int:
    """Number of the organisme's website links found broken by the nightly link checker
    (ofeli.diffusion.liens): 0 until it has run, as the guide shows."""
    from ofeli.diffusion.liens import nombre_liens_en_erreur

    return nombre_liens_en_erreur(organisme)


def compteurs_formations(organisme) -> dict[str, int]:
    """The guide's counters and the formations needing attention, in one query."""
    courante = Publication.objects.filter(formation=OuterRef("pk"), closed_at__isnull=True)
    return Formation.objects.filter(organisme=organisme).aggregate(
        diffusees=Count("pk", filter=Q(Exists(courante))),
        fonds_publics_diffusees=Count("pk", filter=Q(Exists(courante.filter(fonds_publics=True)))),
        en_attente=Count("pk", filter=Q(etat=Etat.EN_ATTENTE)),
        non_diffusees=Count("pk", filter=Q(~Exists(courante)) & ~Q(etat=Etat.ARCHIVE_OF)),
        brouillons=Count("pk", filter=Q(etat=Etat.BROUILLON)),
        complements=Count("pk", filter=Q(etat=Etat.COMPLEMENT)),
    )


def _sessions_a_surveiller(organisme, aujourd_hui):
    """Sessions still open to recruitment that end within FIN_PROCHE_JOURS days or have ended."""
    return Session.objects.filter(
        action__formation__organisme=organisme,
        etat_recrutement=EtatRecrutement.OUVERT,
        fin__lte=aujourd_hui + datetime.timedelta(days=FIN_PROCHE_JOURS),
    ).exclude(etat=Etat.ARCHIVE_OF)


def compteurs_sessions(organisme, aujourd_hui=None) -> dict[str, int]:
    """Sessions ending soon / ended but open, drafts and requests for complement, in one query."""
    aujourd_hui = aujourd_hui or timezone.localdate()
    ouvertes = Q(etat_recrutement=EtatRecrutement.OUVERT) & ~Q(etat=Etat.ARCHIVE_OF)
    return Session.objects.filter(action__formation__organisme=organisme).aggregate(
        fin_proche=Count(
            "pk",
            filter=ouvertes & Q(fin__gte=aujourd_hui, fin__lte=aujourd_hui + datetime.timedelta(days=FIN_PROCHE_JOURS)),
        ),
        terminees_ouvertes=Count("pk", filter=ouvertes & Q(fin__lt=aujourd_hui)),
        brouillons=Count("pk", filter=Q(etat=Etat.BROUILLON)),
        complements=Count("pk", filter=Q(etat=Etat.COMPLEMENT)),
    )


def contexte(organisme, user) -> dict:
    """Everything the tableau de bord shows, for one organisme and one of its contacts."""
    region = current_region()
    aujourd_hui = timezone.localdate()
    formations = compteurs_formations(organisme)
    sessions = compteurs_sessions(organisme, aujourd_hui)
    messages_non_lus = messagerie.messages_non_lus_count(user=user, organisme=organisme)
    notices = messagerie.notifications_non_lues(user=user, organisme=organisme).aggregate(
        toutes=Count("pk"), hors_messages=Count("pk", filter=~Q(type=TypeNotification.NOUVEAU_MESSAGE))
    )
    notices_non_lues, notices_hors_messages = notices["toutes"], notices["hors_messages"]
    compteurs = [
        ("Formations diffusées", formations["diffusees"], {"etat": Etat.VALIDEE}),
        (
            "Formations fonds publics diffusées",
            formations["fonds_publics_diffusees"],
            {"etat": Etat.VALIDEE, "fonds_publics": "oui"},
        ),
        (
            f"Formations en attente de validation par Ofeli - OFeli - {region.gip.nom_court}",
            formations["en_attente"],
            {"etat": Etat.EN_ATTENTE},
        ),
        (
            "Formations non diffusées",
            formations["non_diffusees"],
            {"etat": [Etat.BROUILLON, Etat.EN_ATTENTE, Etat.COMPLEMENT, Etat.NON_DIFFUSEE]},
        ),
    ]
    return {
        "organisme": organisme,
        "compteurs": [
            {"libelle": libelle, "valeur": valeur, "url": lien_liste_formations(query)}
            for libelle, valeur, query in compteurs
        ],
        "erreurs_liens": erreurs_liens_site_internet(organisme),
        "formations": formations,
        "sessions": sessions,
        "fin_proche_jours": FIN_PROCHE_JOURS,
        "sessions_a_surveiller": list(
            _sessions_a_surveiller(organisme, aujourd_hui)
            .select_related("action__formation")
            .order_by("fin", "pk")[:LISTE_MAX]
        ),
        "demandes_complement": list(
            DemandeComplement.objects.ouvertes()
            .filter(organisme=organisme)
            .select_related("formation", "session")
            .order_by("demandee_at", "pk")[:LISTE_MAX]
        ),
        "aujourd_hui": aujourd_hui,
        "messages_non_lus": messages_non_lus,
        "notifications_non_lues": notices_non_lues,
        # The badge: unread notices (but those announcing a message, counted as the message) + unread messages.
        "badge": notices_hors_messages + messages_non_lus,
        "notifications": list(Notification.objects.filter(user=user, organisme=organisme)[:5]),
        "liens": {
            "fiche": lien("organismes:fiche"),
            "contacts": lien("organismes:contacts"),
            "formations": lien("recherche:formations") or lien("offre:formations_liste"),
            "nouvelle_formation": lien("offre:formation_creer"),
            "messagerie": lien("messagerie:fils"),
            "nouveau_message": lien("messagerie:nouveau"),
            "notifications": lien("messagerie:notifications"),
            "preferences": lien("messagerie:preferences"),
            "brouillons": lien_liste_formations({"etat": Etat.BROUILLON}),
            "complements": lien_liste_formations({"etat": Etat.COMPLEMENT}),
            "historique": lien("core:historique", "organisme", organisme.pk),
        },
    }


@of_required(Intent.READ)
def tableau_de_bord(request):
    if request.user.is_staff:
        return redirect("core:staff_home")
    ctx = contexte(request.organisme, request.user)
    ctx["contact"] = request.contact
    return render(request, "core/tableau_de_bord.html", ctx)
