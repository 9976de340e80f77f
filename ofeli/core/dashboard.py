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

from ofeli.campagnes.services import campagnes_en_cours_pour
from ofeli.messagerie import services as messagerie
from ofeli.messagerie.models import Notification, TypeNotification
from ofeli.offre.models import Action, Dispositif, Etat, EtatRecrutement, Formation, Session
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
        "campagnes_en_cours": campagnes_en_cours_pour(organisme),
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
            "rappels": lien("campagnes:rappels"),
        },
    }


@of_required(Intent.READ)
def tableau_de_bord(request):
    if request.user.is_staff:
        return redirect("core:staff_home")
    ctx = contexte(request.organisme, request.user)
    ctx["contact"] = request.contact
    ctx["graphique_sessions"] = graphique_sessions_annee(request.organisme, ctx["aujourd_hui"].year)
    return render(request, "core/tableau_de_bord.html", ctx)


# --- pictures ---------------------------------------------------------------------------------------------

MOIS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]


def sessions_par_mois(organisme, annee: int) -> dict[str, list[int]]:
    """For each month of `annee`: the organisme's sessions starting that month, and those running during it
    (started on or before its last day, ending on or after its first day). Archived sessions are left out.
    One aggregate query."""
    filtres = {}
    for m in range(1, 13):
        premier = datetime.date(annee, m, 1)
        dernier = datetime.date(annee + (m == 12), m % 12 + 1, 1) - datetime.timedelta(days=1)
        filtres[f"d{m}"] = Count("pk", filter=Q(debut__gte=premier, debut__lte=dernier))
        filtres[f"c{m}"] = Count("pk", filter=Q(debut__lte=dernier, fin__gte=premier))
    r = (
        Session.objects.filter(action__formation__organisme=organisme)
        .exclude(etat=Etat.ARCHIVE_OF)
        .aggregate(**filtres)
    )
    return {"debut": [r[f"d{m}"] for m in range(1, 13)], "en_cours": [r[f"c{m}"] for m in range(1, 13)]}


def graphique_sessions_annee(organisme, annee: int, lien_saisie: str | None = None):
    from .charts import barres_verticales

    donnees = sessions_par_mois(organisme, annee)
    return barres_verticales(
        titre=f"Vos sessions en {annee}, mois par mois",
        description=(
            f"Pour chaque mois de {annee}, le nombre de sessions qui commencent dans le mois (barres pleines) "
            "et le nombre de sessions en cours pendant le mois (barres hachurées). Les sessions archivées ne sont "
            "pas comptées."
        ),
        categories=MOIS,
        series=[("Sessions qui commencent", donnees["debut"]), ("Sessions en cours", donnees["en_cours"])],
        categorie="Mois",
        vide=(
            f"Aucune session en {annee} pour le moment. Ajoutez des sessions à vos formations "
            "(Formations, puis une formation, puis « Ajouter une session ») : elles apparaîtront ici."
        ),
    )


# --- the staff home ---------------------------------------------------------------------------------------

SEMAINES_DELAI = 12
NUITS_DIFFUSION = 14
AUCUN_LIEU = "Sans lieu (à distance ou non renseigné)"


def _publiee():
    """Formations with a current publication (the diffused offer), for an Action queryset."""
    return Exists(Publication.objects.filter(formation=OuterRef("formation_id"), closed_at__isnull=True))


def offre_par_departement() -> list[tuple[str, int]]:
    """Diffused formations by département of their actions' places (a formation given in two départements counts
    in both); the region's départements first, in their order, then the others, then formations without a place."""
    from ofeli.referentiels.models import Departement

    lignes = (
        Action.objects.filter(_publiee())
        .exclude(formation__etat=Etat.ARCHIVE_OF)
        .values("lieux__departement")
        .annotate(n=Count("formation", distinct=True))
    )
    compte = {(r["lieux__departement"] or ""): r["n"] for r in lignes}
    noms = dict(Departement.objects.filter(code__in=[c for c in compte if c]).values_list("code", "nom"))
    region = current_region()
    ordre = [c for c in region.departements] + sorted(c for c in compte if c and c not in region.departements)
    resultat = [
        (f"{code} — {noms[code]}" if code in noms else code, compte.get(code, 0))
        for code in ordre
        if code in compte or code in region.departements
    ]
    if compte.get(""):
        resultat.append((AUCUN_LIEU, compte[""]))
    return resultat


def offre_par_dispositif() -> list[tuple[str, int]]:
    """Diffused formations by dispositif (financement) of their actions, most frequent first."""
    lignes = (
        Action.objects.filter(_publiee())
        .exclude(formation__etat=Etat.ARCHIVE_OF)
        .values("dispositif")
        .annotate(n=Count("formation", distinct=True))
    )
    libelles = dict(Dispositif.choices)
    return sorted(
        ((libelles.get(r["dispositif"], r["dispositif"]), r["n"]) for r in lignes), key=lambda x: (-x[1], x[0])
    )


def _lundi(jour: datetime.date) -> datetime.date:
    return jour - datetime.timedelta(days=jour.weekday())


def delais_validation(maintenant=None, semaines: int = SEMAINES_DELAI) -> list[dict]:
    """For each of the last `semaines` weeks (Monday to Sunday, the current one last): the équipe offre's decisions
    on submitted items (validation, complement request, refusal: a staff transition out of "en attente"), and the
    median and longest working hours between the item's submission and that decision (validation.delais)."""
    from statistics import median

    from ofeli.validation.delais import heures_ouvrees_entre
    from ofeli.validation.models import Transition

    maintenant = maintenant or timezone.now()
    premier_lundi = _lundi(timezone.localdate(maintenant)) - datetime.timedelta(weeks=semaines - 1)
    debut = timezone.make_aware(datetime.datetime.combine(premier_lundi, datetime.time()))
    decisions = list(
        Transition.objects.filter(
            etat_avant=Etat.EN_ATTENTE,
            acteur=Transition.Acteur.STAFF,
            created_at__gte=debut,
            created_at__lte=maintenant,
        )
        .exclude(etat_apres=Etat.EN_ATTENTE)
        .values("objet", "formation_id", "action_id", "session_id", "created_at")
    )
    soumissions: dict[tuple, list] = {}
    if decisions:
        for t in (
            Transition.objects.filter(
                etat_apres=Etat.EN_ATTENTE, formation_id__in={d["formation_id"] for d in decisions}
            )
            .exclude(etat_avant=Etat.EN_ATTENTE)
            .values("objet", "formation_id", "action_id", "session_id", "created_at")
            .order_by("created_at")
        ):
            cle = (t["objet"], t["formation_id"], t["action_id"], t["session_id"])
            soumissions.setdefault(cle, []).append(t["created_at"])
    par_semaine: dict[datetime.date, list[float]] = {
        premier_lundi + datetime.timedelta(weeks=i): [] for i in range(semaines)
    }
    for d in decisions:
        cle = (d["objet"], d["formation_id"], d["action_id"], d["session_id"])
        avant = [s for s in soumissions.get(cle, []) if s <= d["created_at"]]
        if not avant:
            continue
        semaine = _lundi(timezone.localdate(d["created_at"]))
        if semaine in par_semaine:
            par_semaine[semaine].append(heures_ouvrees_entre(avant[-1], d["created_at"]))
    return [
        {
            "semaine": lundi,
            "decisions": len(h),
            "mediane": round(median(h), 1) if h else None,
            "max": round(max(h), 1) if h else None,
        }
        for lundi, h in par_semaine.items()
    ]


def runs_diffusion(aujourd_hui=None, nuits: int = NUITS_DIFFUSION) -> tuple[list[datetime.date], list[tuple]]:
    """The nightly runs of the last `nuits` nights per partner (active partners and those that ran): for each
    night, the best outcome (réussi, else en cours, else échec) and the formations sent by that run."""
    from ofeli.diffusion.models import DiffusionRun, Partenaire

    aujourd_hui = aujourd_hui or timezone.localdate()
    dates = [aujourd_hui - datetime.timedelta(days=nuits - 1 - i) for i in range(nuits)]
    runs = DiffusionRun.objects.filter(nuit__gte=dates[0], nuit__lte=dates[-1]).values(
        "partenaire_id", "nuit", "statut", "nb_formations"
    )
    rang = {DiffusionRun.Statut.REUSSI: 3, DiffusionRun.Statut.EN_COURS: 2, DiffusionRun.Statut.ECHEC: 1}
    meilleur: dict[tuple, dict] = {}
    for r in runs:
        cle = (r["partenaire_id"], r["nuit"])
        c = meilleur.get(cle)
        if c is None or (rang[r["statut"]], r["nb_formations"]) > (rang[c["statut"]], c["formations"]):
            meilleur[cle] = {"statut": r["statut"], "formations": r["nb_formations"]}
    ids = {p for p, _ in meilleur}
    partenaires = Partenaire.objects.filter(Q(actif=True) | Q(pk__in=ids)).order_by("nom")
    return dates, [(p.nom, [meilleur.get((p.pk, d)) for d in dates]) for p in partenaires]


def graphiques_staff(maintenant=None) -> dict:
    """The four pictures of the staff home, with their tables."""
    from ofeli.validation.delais import DELAI_HEURES_OUVREES

    from .charts import barres_horizontales, barres_verticales, grille_diffusion, nombre

    maintenant = maintenant or timezone.now()
    delais = delais_validation(maintenant)
    dates, partenaires = runs_diffusion(timezone.localdate(maintenant))
    return {
        "departements": barres_horizontales(
            titre="Offre diffusée par département",
            description=(
                "Nombre de formations diffusées (validées) ayant au moins une action dans un lieu du département. "
                "Une formation donnée dans deux départements compte dans les deux."
            ),
            donnees=offre_par_departement(),
            categorie="Département",
            unite="Formations diffusées",
            vide="Aucune formation diffusée pour l'instant : les formations apparaîtront ici dès leur validation "
            "(menu Validation).",
        ),
        "dispositifs": barres_horizontales(
            titre="Offre diffusée par dispositif",
            description=(
                "Nombre de formations diffusées ayant au moins une action de ce dispositif (financement). "
                "Une formation à plusieurs dispositifs compte dans chacun."
            ),
            donnees=offre_par_dispositif(),
            categorie="Dispositif",
            unite="Formations diffusées",
            vide="Aucune formation diffusée pour l'instant : les formations apparaîtront ici dès leur validation "
            "(menu Validation).",
        ),
        "delais": barres_verticales(
            titre=f"Délai de validation des {SEMAINES_DELAI} dernières semaines",
            description=(
                "Pour chaque semaine, le délai médian (barres pleines) et le plus long (barres hachurées) entre la "
                "soumission d'une formation ou d'une session et la décision de l'équipe offre (validation, demande "
                "de complément ou refus), en heures ouvrées. La ligne marque l'engagement de "
                f"{DELAI_HEURES_OUVREES} heures ouvrées."
            ),
            categories=[f"{d['semaine']:%d/%m}" for d in delais],
            series=[
                ("Délai médian (heures ouvrées)", [d["mediane"] for d in delais]),
                ("Délai le plus long (heures ouvrées)", [d["max"] for d in delais]),
            ],
            categorie="Semaine du",
            reference=(DELAI_HEURES_OUVREES, f"engagement : {DELAI_HEURES_OUVREES} h ouvrées"),
            format_valeur=lambda v: f"{nombre(v)} h",
            largeur=520,
            vide=f"Aucune décision de l'équipe offre ces {SEMAINES_DELAI} dernières semaines : les délais "
            "s'afficheront après les premières validations (menu Validation).",
        ),
        "delais_lignes": delais,
        "diffusion": grille_diffusion(
            titre=f"Flux de diffusion des {NUITS_DIFFUSION} dernières nuits",
            description=(
                "Une ligne par partenaire, une case par nuit : ✓ flux réussi avec le nombre de formations envoyées, "
                "✗ flux en échec, … flux en cours, · aucun flux."
            ),
            nuits=[f"{d:%d/%m/%Y}" for d in dates],
            partenaires=partenaires,
            vide="Aucun flux de diffusion ces dernières nuits : déclarez les partenaires (menu Partenaires) ; "
            "les flux sont produits chaque nuit, ou à la demande depuis le menu Diffusion.",
        ),
    }
