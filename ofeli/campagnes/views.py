"""Screens of the yearly campaign and of the reminders.

Staff (staff_required): the list of campaigns, opening one (with a confirmation naming the OFs concerned), the
follow-up OF by OF, one OF's detail (confirmation, reminders, changes since the opening), reminding, closing.
OF (of_required): the campaign page of the current organisme (404 when it is not concerned), "Je confirme mon
offre" (right "saisir"), and the page of the reminders it received.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ofeli.core.historique import entrees
from ofeli.core.permissions import staff_required
from ofeli.offre.models import Action, Etat, Formation, Session
from ofeli.organismes.gate import Intent, contact_allows, of_required

from . import services
from .forms import CampagneForm, FiltreSuiviForm
from .models import Campagne, EnvoiRappel, Participation, Relance, TypeOffre

PAR_PAGE = 25
HISTORIQUE_MAX = 200


def _campagne(campagne_id) -> Campagne:
    return get_object_or_404(Campagne.objects.select_related("ouverte_par", "close_par"), pk=campagne_id)


# --- staff -----------------------------------------------------------------------------------


@staff_required
def liste(request):
    qs = Campagne.objects.select_related("ouverte_par").annotate(
        nb_organismes=Count("participations"),
        nb_confirmees=Count("participations", filter=Q(participations__confirmee_at__isnull=False)),
    )
    page = Paginator(qs.order_by("-ouverte_at", "-pk"), PAR_PAGE).get_page(request.GET.get("page"))
    return render(request, "campagnes/liste.html", {"page": page})


@staff_required
def nouvelle(request):
    form = CampagneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        concernes = services.organismes_concernes(data["type_offre"])
        if not data.get("confirme"):
            # Second step: the staff member sees the OFs concerned before anything is sent.
            confirmation = CampagneForm(initial={**data, "confirme": True})
            return render(
                request,
                "campagnes/nouvelle_confirmer.html",
                {
                    "form": form,
                    "confirmation": confirmation,
                    "type_label": TypeOffre(data["type_offre"]).label.lower(),
                    "nb_concernes": concernes.count(),
                    "apercu": concernes[:20],
                },
            )
        try:
            campagne = services.ouvrir_campagne(
                type_offre=data["type_offre"],
                debut=data["debut"],
                fin=data["fin"],
                message=data["message"],
                user=request.user,
            )
        except ValidationError as exc:
            form.ajouter_erreurs(exc)
        else:
            total = campagne.participations.count()
            pluriel = total > 1
            messages.success(
                request,
                f"La campagne est ouverte : {total} organisme{'s' if pluriel else ''} "
                f"concerné{'s' if pluriel else ''} {'reçoivent' if pluriel else 'reçoit'} une notification "
                "et un courriel.",
            )
            return redirect("campagnes:suivi", campagne_id=campagne.pk)
    return render(request, "campagnes/nouvelle.html", {"form": form})


@staff_required
def suivi(request, campagne_id):
    campagne = _campagne(campagne_id)
    form = FiltreSuiviForm(request.GET or None)
    qs = services.suivi_participations(campagne)
    etat = q = ""
    if form.is_valid():
        etat, q = form.cleaned_data["etat"], form.cleaned_data["q"].strip()
    if etat == "confirme":
        qs = qs.filter(confirmee_at__isnull=False)
    elif etat == "non_confirme":
        qs = qs.filter(confirmee_at__isnull=True)
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        condition = Q(organisme__raison_sociale__icontains=q) | Q(organisme__nom__icontains=q)
        if len(digits) >= 3:
            condition |= Q(organisme__siret__startswith=digits)
        qs = qs.filter(condition)
    page = Paginator(qs, PAR_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    prog = services.progression(campagne)
    return render(
        request,
        "campagnes/suivi.html",
        {
            "campagne": campagne,
            "form": form,
            "page": page,
            "querystring": params.urlencode(),
            "progression": prog,
            "non_confirmees": prog["total"] - prog["confirmees"],
            "non_prevenus": campagne.participations.filter(notifiee_at__isnull=True).count(),
        },
    )


def _historique_depuis(campagne, organisme):
    """The changes of the OF's offer of the campaign's kind since the opening, newest first (capped)."""
    depuis, source = campagne.ouverte_at, campagne.type_offre
    sources = [
        (
            Formation,
            Formation.history.filter(organisme_id=organisme.pk, source=source),
            lambda r: f"Formation « {r.intitule} »",
        ),
        (
            Action,
            Action.history.filter(formation__organisme_id=organisme.pk, formation__source=source).select_related(
                "formation"
            ),
            lambda r: f"Action — {r.formation.intitule}" if r.formation else "Action",
        ),
        (
            Session,
            Session.history.filter(
                action__formation__organisme_id=organisme.pk, action__formation__source=source
            ).select_related("action__formation"),
            lambda r: (
                f"Session du {r.debut:%d/%m/%Y} au {r.fin:%d/%m/%Y}"
                + (f" — {r.action.formation.intitule}" if r.action else "")
            ),
        ),
    ]
    lignes = []
    for model, qs, libelle in sources:
        records = qs.filter(history_date__gte=depuis).select_related("history_user")
        for record in records.order_by("-history_date", "-history_id")[:HISTORIQUE_MAX]:
            lignes.append((record.history_date, model, record, libelle(record)))
    lignes.sort(key=lambda row: row[0], reverse=True)
    return lignes[:HISTORIQUE_MAX]


@staff_required
def suivi_organisme(request, campagne_id, organisme_id):
    campagne = _campagne(campagne_id)
    participation = get_object_or_404(
        Participation.objects.select_related("organisme", "confirmee_par"), campagne=campagne, organisme_id=organisme_id
    )
    page = Paginator(_historique_depuis(campagne, participation.organisme), 20).get_page(request.GET.get("page"))
    changements = []
    for _date, model, record, libelle in page:
        entree = entrees(model, [record], record.prev_record)[0]
        changements.append({"objet": libelle, "entree": entree, "type_objet": model.__name__.lower(), "pk": record.id})
    return render(
        request,
        "campagnes/suivi_organisme.html",
        {
            "campagne": campagne,
            "participation": participation,
            "organisme": participation.organisme,
            "relances": Relance.objects.filter(participation=participation).select_related("envoyee_par"),
            "formations": services.formations_concernees(campagne=campagne, organisme=participation.organisme)
            .annotate(nb_sessions=Count("actions__sessions"))
            .order_by("intitule", "pk"),
            "page": page,
            "changements": changements,
        },
    )


@staff_required
def relancer_tous(request, campagne_id):
    campagne = _campagne(campagne_id)
    non_confirmees = campagne.participations.filter(confirmee_at__isnull=True).count()
    if request.method == "POST":
        if not campagne.ouverte:
            messages.error(request, "Cette campagne est clôturée : les organismes ne peuvent plus être relancés.")
            return redirect("campagnes:suivi", campagne_id=campagne.pk)
        from .tasks import campagne_relancer_task

        campagne_relancer_task(campagne.pk, request.user.pk)
        messages.success(
            request,
            f"Relance lancée pour les {non_confirmees} organisme(s) qui n'ont pas confirmé leur offre "
            "(ceux déjà relancés aujourd'hui ne le sont pas une seconde fois).",
        )
        return redirect("campagnes:suivi", campagne_id=campagne.pk)
    return render(
        request,
        "campagnes/confirmer.html",
        {
            "campagne": campagne,
            "titre": "Relancer les organismes",
            "question": f"Envoyer une relance (notification et courriel) aux {non_confirmees} organisme(s) qui "
            "n'ont pas encore confirmé leur offre ?",
            "bouton": "Relancer",
            "classe": "btn-primary",
            "retour_url": reverse("campagnes:suivi", args=[campagne.pk]),
        },
    )


@staff_required
@require_POST
def relancer(request, campagne_id, organisme_id):
    campagne = _campagne(campagne_id)
    participation = get_object_or_404(Participation, campagne=campagne, organisme_id=organisme_id)
    try:
        relance = services.relancer(participation=participation, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if relance is None:
            messages.info(
                request, "Pas de relance : l'organisme a confirmé son offre ou a déjà été relancé aujourd'hui."
            )
        else:
            messages.success(request, f"Relance envoyée à {participation.organisme}.")
    if request.POST.get("retour") == "organisme":
        return redirect("campagnes:suivi_organisme", campagne_id=campagne.pk, organisme_id=organisme_id)
    return redirect("campagnes:suivi", campagne_id=campagne.pk)


@staff_required
def cloturer(request, campagne_id):
    campagne = _campagne(campagne_id)
    if request.method == "POST":
        services.cloturer_campagne(campagne=campagne, user=request.user)
        messages.success(request, "La campagne est clôturée.")
        return redirect("campagnes:suivi", campagne_id=campagne.pk)
    prog = services.progression(campagne)
    return render(
        request,
        "campagnes/confirmer.html",
        {
            "campagne": campagne,
            "titre": "Clôturer la campagne",
            "question": f"{prog['confirmees']} organisme(s) sur {prog['total']} ont confirmé leur offre. Une fois la "
            "campagne clôturée, les organismes ne peuvent plus confirmer et ne sont plus relancés. Clôturer ?",
            "bouton": "Clôturer la campagne",
            "classe": "btn-danger",
            "retour_url": reverse("campagnes:suivi", args=[campagne.pk]),
        },
    )


# --- OF --------------------------------------------------------------------------------------


def _participation_du_contact(request, campagne_id) -> Participation:
    """The gate of a campaign page: the current organisme's participation, 404 when it is not concerned."""
    if request.organisme is None:
        raise Http404
    return get_object_or_404(
        Participation.objects.select_related("campagne", "confirmee_par", "organisme"),
        campagne_id=campagne_id,
        organisme=request.organisme,
    )


@of_required(Intent.READ)
def campagne(request, campagne_id):
    if request.user.is_staff:
        return redirect("campagnes:suivi", campagne_id=campagne_id)
    participation = _participation_du_contact(request, campagne_id)
    campagne = participation.campagne
    formations = (
        services.formations_concernees(campagne=campagne, organisme=request.organisme)
        .prefetch_related(
            Prefetch("actions__sessions", queryset=Session.objects.exclude(etat=Etat.ARCHIVE_OF).order_by("debut"))
        )
        .order_by("intitule", "pk")
    )
    page = Paginator(formations, PAR_PAGE).get_page(request.GET.get("page"))
    lignes = []
    for formation in page:
        sessions = sorted((s for a in formation.actions.all() for s in a.sessions.all()), key=lambda s: (s.debut, s.pk))
        lignes.append(
            {
                "formation": formation,
                "sessions": sessions,
                "modifiee": formation.updated_at >= campagne.ouverte_at
                or any(s.updated_at >= campagne.ouverte_at for s in sessions),
            }
        )
    brouillons = Session.objects.filter(
        action__formation__in=services.formations_concernees(campagne=campagne, organisme=request.organisme),
        etat=Etat.BROUILLON,
    ).count()
    return render(
        request,
        "campagnes/campagne.html",
        {
            "campagne": campagne,
            "participation": participation,
            "page": page,
            "lignes": lignes,
            "brouillons": brouillons,
            "peut_saisir": contact_allows(request.contact, Intent.SAISIR),
        },
    )


@require_POST
@of_required(Intent.SAISIR)
def confirmer(request, campagne_id):
    if request.user.is_staff:
        raise Http404
    participation = _participation_du_contact(request, campagne_id)
    deja = participation.confirmee
    try:
        services.confirmer_offre(campagne=participation.campagne, organisme=request.organisme, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if deja:
            messages.info(request, "Votre offre était déjà confirmée.")
        else:
            messages.success(request, "Merci : votre offre est confirmée. L'équipe offre en est informée.")
    return redirect("campagnes:campagne", campagne_id=participation.campagne_id)


@of_required(Intent.READ)
def rappels(request):
    if request.user.is_staff:
        return redirect("campagnes:liste")
    envois = EnvoiRappel.objects.filter(organisme=request.organisme).prefetch_related("elements")
    page = Paginator(envois.order_by("-envoye_at", "-pk"), 10).get_page(request.GET.get("page"))
    from .rappels import grouper

    blocs = [{"envoi": envoi, "groupes": grouper(envoi.elements.all())} for envoi in page]
    return render(request, "campagnes/rappels.html", {"page": page, "blocs": blocs})
