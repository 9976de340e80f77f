"""Screens of the bulk edit ("Modifier en masse") and of the rollover ("Reconduire mes sessions").

Both start from a list of the user's sessions (filters, pages of 50, a checkbox per session); the
bulk edit also starts from a search result (`?recherche=1&<the search page's criteria>`) or from a
formation (`?formation=<id>`). The chosen ids are posted to the next step; every id is checked again
there through the gate's scope and by the services (another OF's session is never changed).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ofeli.organismes.gate import Intent, of_required, organisme_scope

from . import masse, reconduction
from .forms_masse import FiltreSessionsForm, ModificationMasseForm, ReconductionForm, annee_courante
from .models import Reconduction, Session

PAR_PAGE = 50


def _sessions_visibles(request):
    return organisme_scope(
        request,
        Session.objects.select_related("action__formation__organisme"),
        field="action__formation__organisme",
    )


def _ids_postes(request) -> list[str]:
    return [i for i in request.POST.getlist("session") if i.strip()]


def _choisies(request, ids):
    """The posted sessions the user may see (any others are counted, never shown)."""
    propres = []
    for brut in ids:
        try:
            propres.append(int(brut))
        except ValueError:
            continue
    sessions = list(_sessions_visibles(request).filter(pk__in=propres).order_by("debut", "pk"))
    return sessions, len(set(propres)) - len(sessions)


def _conserver(request, form) -> list[tuple[str, str]]:
    """The parameters the filter form does not own (a search's criteria, formations), kept when filtering."""
    return [
        (nom, valeur)
        for nom in request.GET
        if nom not in form.fields and nom != "page"
        for valeur in request.GET.getlist(nom)
    ]


def _page(request, qs):
    page = Paginator(qs, PAR_PAGE).get_page(request.GET.get("page"))
    parametres = request.GET.copy()
    parametres.pop("page", None)
    return page, parametres.urlencode()


# --- Bulk edit ----------------------------------------------------------------------------------------


@of_required(Intent.SAISIR)
def masse_choisir(request):
    """Step 1: the sessions to change (filters, a search result or a formation)."""
    form = FiltreSessionsForm(request.GET or None, staff=request.user.is_staff)
    sessions = _sessions_visibles(request)
    if request.GET:
        sessions = form.filtrer(sessions)
    depuis_recherche = request.GET.get("recherche") == "1"
    if depuis_recherche:
        from ofeli.recherche.services import formations_pour

        formations, erreurs = formations_pour(request, request.GET)
        if erreurs:
            messages.error(request, "Les critères de la recherche sont à corriger : revenez à la recherche.")
        sessions = sessions.filter(action__formation__in=formations.order_by().values("pk"))
    formation_ids = [f for f in request.GET.getlist("formation") if f.isdigit()]
    if formation_ids:
        sessions = sessions.filter(action__formation_id__in=formation_ids)
    sessions = sessions.prefetch_related("action__lieux").order_by("action__formation__intitule", "debut", "pk")
    page, parametres = _page(request, sessions)
    return render(
        request,
        "offre/masse/choisir.html",
        {
            "form": form,
            "page": page,
            "parametres": parametres,
            "depuis_recherche": depuis_recherche,
            "conserver": _conserver(request, form),
            "max_sessions": masse.MAX_SESSIONS,
        },
    )


@require_POST
@of_required(Intent.SAISIR)
def masse_modifier(request):
    """Step 2: what to change (the chosen sessions listed); step 3 (`appliquer`): the result, session by session."""
    ids = _ids_postes(request)
    sessions, introuvables = _choisies(request, ids)
    if not ids:
        messages.error(request, "Cochez au moins une session à modifier.")
        return redirect("offre:masse_choisir")
    organismes = {s.action.formation.organisme for s in sessions}
    organisme_du_formulaire = request.organisme or (organismes.pop() if len(organismes) == 1 else None)
    appliquer = "appliquer" in request.POST
    form = ModificationMasseForm(request.POST if appliquer else None, organisme=organisme_du_formulaire)
    if appliquer and form.is_valid():
        try:
            resultat = masse.modifier_sessions_en_masse(
                user=request.user,
                organisme=request.organisme,
                session_ids=ids,
                champ=form.cleaned_data["champ"],
                valeur=form.valeur(),
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        except PermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        else:
            return render(request, "offre/masse/resultat.html", {"resultat": resultat})
    return render(
        request,
        "offre/masse/modifier.html",
        {
            "form": form,
            "sessions": sessions,
            "ids": ids,
            "introuvables": introuvables,
            "plusieurs_organismes": organisme_du_formulaire is None,
            "trop": len(ids) > masse.MAX_SESSIONS,
            "max_sessions": masse.MAX_SESSIONS,
        },
    )


# --- Rollover -----------------------------------------------------------------------------------------


@of_required(Intent.SAISIR)
def reconduction_choisir(request):
    """Step 1: the sessions of year N to carry to N+1, with their new dates."""
    params = request.GET.copy()
    params.setdefault("annee", str(annee_courante()))
    form = FiltreSessionsForm(params, staff=request.user.is_staff, annee_obligatoire=True)
    annee = form.cleaned_data.get("annee") if form.is_valid() else None
    annee = annee or annee_courante()
    sessions = reconduction.sessions_reconductibles(form.filtrer(_sessions_visibles(request)), annee).order_by(
        "action__formation__intitule", "debut", "pk"
    )
    page, parametres = _page(request, sessions)
    deja = dict(
        Reconduction.objects.filter(origine__in=[s.pk for s in page.object_list], annee=annee + 1).values_list(
            "origine_id", "session_id"
        )
    )
    lignes = [
        {"session": s, "dates": reconduction.nouvelles_dates(s, annee + 1), "copie_id": deja.get(s.pk)}
        for s in page.object_list
    ]
    return render(
        request,
        "offre/reconduction/choisir.html",
        {
            "form": form,
            "page": page,
            "lignes": lignes,
            "parametres": parametres,
            "annee": annee,
            "cible": annee + 1,
            "conserver": _conserver(request, form),
        },
    )


@require_POST
@of_required(Intent.SAISIR)
def reconduction_confirmer(request):
    """Step 2: the preview (a simulation of the rollover); step 3 (`confirmer`): the rollover itself."""
    form = ReconductionForm(request.POST)
    ids = _ids_postes(request)
    if not form.is_valid():
        for message in form.errors.get("annee", []):
            messages.error(request, message)
        return redirect("offre:reconduction_choisir")
    if not ids:
        messages.error(request, "Cochez au moins une session à reconduire.")
        return redirect(reverse("offre:reconduction_choisir") + f"?annee={form.cleaned_data['annee'] - 1}")
    sessions, introuvables = _choisies(request, ids)
    confirmer = request.POST.get("confirmer") == "1"
    resultat = reconduction.reconduire_sessions(
        user=request.user, sessions=sessions, annee_cible=form.cleaned_data["annee"], simulation=not confirmer
    )
    return render(
        request,
        "offre/reconduction/resultat.html",
        {"resultat": resultat, "introuvables": introuvables, "ids": [s.pk for s in sessions]},
    )
