"""Screens of the offer entry: the OF's formations, the formation and session forms (in tabs), duplication,
submission, attachments. Every view carries a gate; objects are reached only through ofeli.offre.gate."""

import functools

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ofeli.organismes.gate import Intent, contact_allows, of_required, organisme_scope
from ofeli.validation import workflow

from . import rules, services
from .forms import DuplicationForm, FormationForm, SessionForm
from .gate import SaisieRefusee, get_formation_for, get_piece_jointe_for, get_session_for
from .models import (
    SOURCES_SAISIE_LIBRE,
    SOURCES_SESSIONS_SEULEMENT,
    Etat,
    Formation,
    ModalitesEnseignement,
    Session,
)


def refus_lisible(view):
    """Shows the guide's text (who to contact) when the gate refuses an entry because of the offer's source."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except SaisieRefusee as refus:
            return render(request, "offre/saisie_refusee.html", {"message": refus.message}, status=403)

    return wrapper


def _donnees(request):
    """The form's data and files: bound on POST even when nothing was entered."""
    if request.method == "POST":
        return request.POST, request.FILES
    return None, None


def _peut_saisir(request) -> bool:
    return request.user.is_staff or (request.contact is not None and contact_allows(request.contact, Intent.SAISIR))


def _organisme_de_saisie(request):
    """The organisme a new formation belongs to: the contact's current one (staff enter none here)."""
    if request.organisme is None:
        raise PermissionDenied("La création d'une formation se fait depuis le compte d'un organisme.")
    return request.organisme


def _transition(request, action, succes: str) -> None:
    """Runs a workflow transition (`action()`); its refusal or `succes` becomes the page's message."""
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, succes)


# --- Formations -------------------------------------------------------------------------------


@of_required(Intent.READ)
def formations_liste(request):
    formations = organisme_scope(request, Formation.objects.select_related("organisme")).order_by("-updated_at", "pk")
    page = Paginator(formations, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    # Sessions are counted for the page shown only: a count joined to the whole list (an OF may have
    # thousands of formations) would group every session of the organisme to show fifty lines.
    nombres = dict(
        Session.objects.filter(action__formation__in=[f.pk for f in page.object_list])
        .order_by()
        .values_list("action__formation")
        .annotate(n=Count("pk"))
    )
    for formation in page.object_list:
        formation.nb_sessions = nombres.get(formation.pk, 0)
    return render(
        request,
        "offre/formations_liste.html",
        {
            "formations": page,
            "page": page,
            "peut_saisir": _peut_saisir(request) and request.organisme is not None,
            "peut_saisir_masse": _peut_saisir(request),
        },
    )


@of_required(Intent.SAISIR)
def formation_creer(request):
    organisme = _organisme_de_saisie(request)
    form = FormationForm(*_donnees(request), organisme=organisme)
    if request.method == "POST" and form.is_valid():
        try:
            formation = services.formation_creer(
                organisme=organisme, user=request.user, donnees=form.donnees(), agrement=form.cleaned_data["agrement"]
            )
        except ValidationError as exc:
            form.ajouter_erreurs(exc.message_dict)
        else:
            messages.success(
                request,
                "Votre formation est enregistrée comme brouillon. Ajoutez ses sessions puis soumettez-la à la "
                "validation de l'équipe offre.",
            )
            return redirect("offre:formation_detail", pk=formation.pk)
    return render(request, "offre/formation_form.html", {"form": form, "formation": None})


def _lignes_sessions(formation):
    sessions = (
        Session.objects.filter(action__formation=formation)
        .select_related("action__organisme_formateur", "adresse_inscription")
        .prefetch_related("action__lieux")
        .order_by("debut", "pk")
    )
    lignes = []
    for session in sessions:
        lieux = list(session.action.lieux.all())
        lieu = lieux[0] if lieux else None
        formateur = session.action.organisme_formateur
        a_distance = lieu is None and session.action.modalites_enseignement == ModalitesEnseignement.A_DISTANCE
        lignes.append(
            {
                "session": session,
                "departement": "" if a_distance else (lieu.departement if lieu else formation.organisme.departement),
                "ville": "À distance" if a_distance else (lieu.ville if lieu else formation.organisme.ville),
                "formateur": formateur.raison_sociale if formateur else str(formation.organisme),
            }
        )
    return lignes


@of_required(Intent.READ)
def formation_detail(request, pk):
    formation = get_formation_for(request, pk, Intent.READ)
    peut_saisir = _peut_saisir(request)
    source_libre = formation.source in SOURCES_SAISIE_LIBRE
    sessions_seulement = formation.source in SOURCES_SESSIONS_SEULEMENT
    context = {
        "formation": formation,
        "lignes": _lignes_sessions(formation),
        "pieces": formation.pieces_jointes.order_by("-uploaded_at"),
        "message_source": rules.message_source(formation.source),
        "peut_modifier": peut_saisir and source_libre,
        "peut_ajouter_session": peut_saisir and (source_libre or sessions_seulement),
        "peut_soumettre": peut_saisir and source_libre and a_soumettre(formation),
        "peut_archiver": peut_saisir and source_libre and workflow.peut_passer(formation.etat, Etat.ARCHIVE_OF, "of"),
        "peut_supprimer": peut_saisir and services.peut_supprimer_demande(formation),
        "derniere_maj": derniere_mise_a_jour(formation),
    }
    return render(request, "offre/formation_detail.html", context)


def a_soumettre(formation) -> bool:
    """Something to send to validation: the formation itself, or its sessions in draft."""
    if formation.etat in (Etat.BROUILLON, Etat.NON_DIFFUSEE, Etat.COMPLEMENT):
        return True
    if formation.etat in (Etat.VALIDEE, Etat.EN_ATTENTE):
        return Session.objects.filter(action__formation=formation, etat=Etat.BROUILLON).exists()
    return False


def derniere_mise_a_jour(formation):
    """The date of last update of a formation: its own or that of its latest changed session."""
    sessions = Session.objects.filter(action__formation=formation).aggregate(m=Max("updated_at"))["m"]
    return max(d for d in (formation.updated_at, sessions) if d)


def _differences(form, actuel, champs):
    """The fields where what is saved now differs from what the user entered (shown after a conflict)."""
    lignes = []
    for nom in champs:
        if nom not in form.fields or nom not in form.cleaned_data:
            continue
        field = form.fields[nom]
        saisi = form.cleaned_data[nom]
        enregistre = actuel[nom]
        if hasattr(enregistre, "all"):
            enregistre = list(enregistre.all())

        def affiche(v, field=field):
            if isinstance(v, list | tuple):
                return ", ".join(str(dict(getattr(field, "choices", [])).get(x, x)) for x in v) or "—"
            choices = dict(getattr(field, "choices", []) or [])
            if v in (None, ""):
                return "—"
            if isinstance(v, bool):
                return "Oui" if v else "Non"
            return str(choices.get(v, choices.get(str(v), v)))

        if affiche(saisi) != affiche(enregistre):
            lignes.append({"label": field.label, "enregistre": affiche(enregistre), "saisi": affiche(saisi)})
    return lignes


def _auteur_derniere_modification(obj):
    record = obj.history.order_by("-history_date").first()
    user = record.history_user if record else None
    return (user.get_full_name() or user.email) if user else "un autre utilisateur"


def _conflit(request, form, actuel, donnees_actuelles, champs):
    data = form.data.copy()
    data["version"] = actuel.version
    form.data = data
    form.add_error(
        None,
        f"{_auteur_derniere_modification(actuel)} a enregistré des modifications pendant que vous saisissiez : "
        "vos changements n'ont pas été enregistrés. Comparez ci-dessous, puis enregistrez à nouveau pour "
        "remplacer ses valeurs par les vôtres.",
    )
    return _differences(form, donnees_actuelles, champs)


@of_required(Intent.SAISIR)
@refus_lisible
def formation_modifier(request, pk):
    formation = get_formation_for(request, pk, Intent.SAISIR)
    form = FormationForm(*_donnees(request), instance=formation, organisme=formation.organisme)
    differences = None
    if request.method == "POST" and form.is_valid():
        try:
            services.formation_modifier(
                formation=formation,
                user=request.user,
                donnees=form.donnees(),
                version=form.cleaned_data["version"],
                agrement=form.cleaned_data["agrement"],
            )
        except services.ConflitDeVersion as conflit:
            actuel = conflit.actuel
            donnees = {n: getattr(actuel, n) for n in services.FORMATION_CHAMPS + services.FORMATION_M2M}
            differences = _conflit(request, form, actuel, donnees, services.FORMATION_CHAMPS + services.FORMATION_M2M)
        except ValidationError as exc:
            form.ajouter_erreurs(exc.message_dict)
        else:
            messages.success(request, "Les modifications de la formation sont enregistrées.")
            return redirect("offre:formation_detail", pk=formation.pk)
    return render(
        request, "offre/formation_form.html", {"form": form, "formation": formation, "differences": differences}
    )


@of_required(Intent.SAISIR)
@refus_lisible
def formation_supprimer(request, pk):
    formation = get_formation_for(request, pk, Intent.SAISIR)
    if not services.peut_supprimer_demande(formation):
        messages.error(request, "Seule une formation jamais soumise à validation peut être supprimée.")
        return redirect("offre:formation_detail", pk=formation.pk)
    if request.method == "POST":
        services.formation_supprimer_demande(formation=formation, user=request.user)
        messages.success(request, f"Votre demande « {formation.intitule} » est supprimée.")
        return redirect("offre:formations_liste")
    return render(request, "offre/formation_supprimer.html", {"formation": formation})


@require_POST
@of_required(Intent.SAISIR)
@refus_lisible
def formation_soumettre(request, pk):
    formation = get_formation_for(request, pk, Intent.SAISIR)
    if not formation.actions.filter(sessions__isnull=False).exists():
        messages.error(request, "Ajoutez au moins une session avant de soumettre la formation à validation.")
        return redirect("offre:formation_detail", pk=formation.pk)
    _transition(
        request,
        lambda: workflow.formation_soumettre(formation=formation, user=request.user),
        "Votre formation est soumise à la validation de l'équipe offre, qui la traite sous 48 heures ouvrées.",
    )
    return redirect("offre:formation_detail", pk=formation.pk)


@require_POST
@of_required(Intent.SAISIR)
@refus_lisible
def formation_archiver(request, pk):
    formation = get_formation_for(request, pk, Intent.SAISIR)
    _transition(
        request,
        lambda: workflow.formation_archiver(formation=formation, user=request.user),
        "La formation et ses sessions sont archivées (Archive OF) : elles ne sont plus diffusées.",
    )
    return redirect("offre:formation_detail", pk=formation.pk)


# --- Sessions ---------------------------------------------------------------------------------


@of_required(Intent.SAISIR)
@refus_lisible
def session_creer(request, formation_pk):
    formation = get_formation_for(request, formation_pk, Intent.SAISIR, pour_session=True)
    form = SessionForm(*_donnees(request), formation=formation)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_creer(
                formation=formation,
                user=request.user,
                donnees=form.donnees(),
                convention=form.cleaned_data.get("convention"),
                commune_convention=form.cleaned_data.get("commune_convention"),
            )
        except ValidationError as exc:
            form.ajouter_erreurs(exc.message_dict)
        else:
            messages.success(request, "La session est enregistrée.")
            return redirect("offre:formation_detail", pk=session.action.formation_id)
    return render(request, "offre/session_form.html", {"form": form, "formation": formation, "session": None})


@of_required(Intent.READ)
def session_detail(request, pk):
    session = get_session_for(request, pk, Intent.READ)
    formation = session.action.formation
    form = SessionForm(formation=formation, session=session)
    peut_saisir = _peut_saisir(request) and (
        formation.source in SOURCES_SAISIE_LIBRE or formation.source in SOURCES_SESSIONS_SEULEMENT
    )
    return render(
        request,
        "offre/session_detail.html",
        {
            "session": session,
            "formation": formation,
            "sections": form.sections_lecture(),
            "pieces": session.pieces_jointes.order_by("-uploaded_at"),
            "peut_saisir": peut_saisir,
            "peut_soumettre": peut_saisir and session.etat in (Etat.BROUILLON, Etat.COMPLEMENT, Etat.NON_DIFFUSEE),
            "peut_archiver": peut_saisir and workflow.peut_passer(session.etat, Etat.ARCHIVE_OF, "of"),
        },
    )


@of_required(Intent.SAISIR)
@refus_lisible
def session_modifier(request, pk):
    session = get_session_for(request, pk, Intent.SAISIR)
    formation = session.action.formation
    form = SessionForm(*_donnees(request), formation=formation, session=session)
    differences = None
    if request.method == "POST" and form.is_valid():
        try:
            services.session_modifier(
                session=session,
                user=request.user,
                donnees=form.donnees(),
                version=form.cleaned_data["version"],
                convention=form.cleaned_data.get("convention"),
                commune_convention=form.cleaned_data.get("commune_convention"),
            )
        except services.ConflitDeVersion as conflit:
            actuel = Session.objects.select_related("action").get(pk=conflit.actuel.pk)
            differences = _conflit(request, form, actuel, services.donnees_de_session(actuel), services.SESSION_DONNEES)
        except ValidationError as exc:
            form.ajouter_erreurs(exc.message_dict)
        else:
            messages.success(request, "Les modifications de la session sont enregistrées.")
            return redirect("offre:formation_detail", pk=formation.pk)
    return render(
        request,
        "offre/session_form.html",
        {"form": form, "formation": formation, "session": session, "differences": differences},
    )


RAPPEL_DUPLICATION = "N'oubliez pas de vérifier les lieux, les places et les contacts liés à la session."


@of_required(Intent.SAISIR)
@refus_lisible
def session_dupliquer(request, pk):
    session = get_session_for(request, pk, Intent.SAISIR)
    formation = session.action.formation
    form = DuplicationForm(*_donnees(request), session=session)
    if request.method == "POST" and form.is_valid():
        try:
            copie = services.session_dupliquer(
                session=session, user=request.user, debut=form.cleaned_data["debut"], fin=form.cleaned_data["fin"]
            )
        except ValidationError as exc:
            for champ, msgs in exc.message_dict.items():
                for message in msgs:
                    form.add_error(champ if champ in form.fields else None, message)
        else:
            messages.success(request, "La session est dupliquée.")
            return redirect(reverse("offre:session_modifier", kwargs={"pk": copie.pk}) + "?dupliquee=1")
    return render(
        request,
        "offre/session_dupliquer.html",
        {"form": form, "session": session, "formation": formation, "rappel": RAPPEL_DUPLICATION},
    )


@require_POST
@of_required(Intent.SAISIR)
@refus_lisible
def session_soumettre(request, pk):
    session = get_session_for(request, pk, Intent.SAISIR)
    _transition(
        request,
        lambda: workflow.session_soumettre(session=session, user=request.user),
        "La session est soumise à la validation de l'équipe offre.",
    )
    return redirect("offre:formation_detail", pk=session.action.formation_id)


@require_POST
@of_required(Intent.SAISIR)
@refus_lisible
def session_archiver(request, pk):
    session = get_session_for(request, pk, Intent.SAISIR)
    _transition(
        request,
        lambda: workflow.session_archiver(session=session, user=request.user),
        "La session est archivée (Archive OF) : elle n'est plus diffusée.",
    )
    return redirect("offre:formation_detail", pk=session.action.formation_id)


# --- Pièces jointes --------------------------------------------------------------


@of_required(Intent.READ)
def piece_jointe(request, pk):
    piece = get_piece_jointe_for(request, pk)
    try:
        fichier = piece.fichier.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(fichier, content_type=piece.content_type, as_attachment=True, filename=piece.nom_original)
    response["Cache-Control"] = "private, no-store"
    return response
