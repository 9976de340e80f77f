"""The équipe offre's validation screens (review queue, item page) and the OF's follow-up page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ofeli.core.permissions import staff_required
from ofeli.messagerie.services import notifications_formation_marquer_lues
from ofeli.offre.models import Etat, Formation, Session
from ofeli.organismes.gate import Intent, of_required, organisme_scope

from . import delais, services, snapshot, workflow
from .forms import AnnulerComplementForm, ComplementForm, FiltreForm, RefusForm, ValiderForm
from .models import DemandeComplement, Publication, publication_courante


def _erreur(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- queue ------------------------------------------------------------------------------------------------


@staff_required
def file(request):
    """The review queue: oldest submission first, time left to the 48 working hours, bulk validation."""
    resultats = None
    if request.method == "POST":
        resultats = _valider_plusieurs(request, request.POST.getlist("elements"))
    seules = services.sessions_seules()  # read once for the filter's list and the queue
    organismes = services.organismes_en_file(seules).only("pk", "nom", "raison_sociale")
    filtre = FiltreForm(request.GET or None, organismes=organismes)
    criteres = filtre.cleaned_data if filtre.is_valid() else {}
    elements = services.file_elements(
        organisme=criteres.get("organisme"),
        departement=criteres.get("departement", ""),
        dispositif=criteres.get("dispositif", ""),
        type_changement=criteres.get("type_changement", ""),
        seules=seules,
    )
    page = Paginator(elements, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "validation/file.html",
        {
            "filtre": filtre,
            "page": page,
            "total": len(elements),
            "en_retard": elements.nombre_en_retard(),
            "resultats": resultats,
            "query": query.urlencode(),
        },
    )


def _valider_plusieurs(request, cles):
    """Validates each selected item through the same function as one by one; says what passed and what did not."""
    valides, refuses = [], []
    if not cles:
        messages.error(request, "Sélectionnez au moins un élément à valider.")
        return None
    for cle in cles:
        try:
            objet, pk, version = cle.split(":")
            pk, version = int(pk), int(version)
        except ValueError:
            refuses.append((cle, "Élément inconnu."))
            continue
        modele = Formation if objet == "formation" else Session if objet == "session" else None
        obj = modele.objects.filter(pk=pk).first() if modele else None
        if obj is None:
            refuses.append((cle, "Élément introuvable."))
            continue
        libelle = _libelle(obj)
        try:
            if objet == "formation":
                workflow.formation_valider(formation=obj, user=request.user, version=version)
            else:
                workflow.session_valider(session=obj, user=request.user, version=version)
        except (ValidationError, PermissionDenied) as exc:
            raison = _erreur(exc) if isinstance(exc, ValidationError) else "Action non autorisée."
            refuses.append((libelle, raison))
            continue
        obj.refresh_from_db()
        valides.append(f"{libelle} (n° {obj.numero})")
    return {"valides": valides, "refuses": refuses}


def _libelle(obj) -> str:
    if isinstance(obj, Formation):
        return f"Formation « {obj.intitule} »"
    return f"Session du {obj.debut:%d/%m/%Y} de « {obj.action.formation.intitule} »"


# --- item page ------------------------------------------------------------------------------------------


def _formes(obj, data=None, operation=None):
    """The four decision forms, bound only for the one posted."""
    initial = {"version": obj.version}

    def bound(name, cls, **extra):
        if operation == name:
            return cls(data, prefix=name)
        return cls(initial={**initial, **extra}, prefix=name)

    demande = _demande_ouverte(obj)
    return {
        "valider": bound("valider", ValiderForm),
        "complement": bound("complement", ComplementForm),
        "refuser": bound("refuser", RefusForm),
        "annuler": bound("annuler", AnnulerComplementForm, demande=demande.pk if demande else 0),
    }


def _demande_ouverte(obj):
    qs = DemandeComplement.objects.ouvertes()
    if isinstance(obj, Session):
        return qs.filter(session=obj).first()
    return qs.filter(formation=obj, session__isnull=True).first()


def _decider(request, obj):
    """Runs the posted decision; returns the forms to show again (with errors) or None after success."""
    operation = request.POST.get("operation")
    formes = _formes(obj, request.POST, operation)
    form = formes.get(operation)
    if form is None:
        messages.error(request, "Action inconnue.")
        return formes
    if not form.is_valid():
        return formes
    data = form.cleaned_data
    est_session = isinstance(obj, Session)
    try:
        if operation == "valider":
            fn = workflow.session_valider if est_session else workflow.formation_valider
            fn(**{"session" if est_session else "formation": obj}, user=request.user, version=data["version"],
               message=data["message"])  # fmt: skip
            obj.refresh_from_db()
            messages.success(request, f"{_libelle(obj)} validée : numéro Carif {obj.numero}.")
        elif operation == "complement":
            fn = workflow.session_demander_complement if est_session else workflow.formation_demander_complement
            fn(**{"session" if est_session else "formation": obj}, user=request.user, version=data["version"],
               message=data["message"])  # fmt: skip
            messages.success(request, "Demande de complément d'information envoyée à l'organisme.")
        elif operation == "refuser":
            fn = workflow.session_refuser if est_session else workflow.formation_refuser
            fn(**{"session" if est_session else "formation": obj}, user=request.user, version=data["version"],
               motif=data["motif"])  # fmt: skip
            messages.success(request, f"{_libelle(obj)} : non diffusée.")
        elif operation == "annuler":
            demande = DemandeComplement.objects.filter(pk=data["demande"]).first()
            if demande is None or (demande.session_id or demande.formation_id) != obj.pk:
                raise ValidationError("Cette demande de complément n'existe pas.")
            workflow.complement_annuler(demande=demande, user=request.user, version=data["version"])
            messages.success(request, "Demande de complément annulée : l'élément est de nouveau à valider.")
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            form.add_error(None, exc)
        messages.error(request, _erreur(exc))
        return formes
    return None


@staff_required
def formation_element(request, pk):
    formation = get_object_or_404(Formation.objects.select_related("organisme"), pk=pk)
    if request.method == "POST":
        formes = _decider(request, formation)
        if formes is None:
            return redirect("validation:formation", pk=formation.pk)
        formation.refresh_from_db()
    else:
        formes = _formes(formation)
    return _element_page(request, formation, formation, formes, "formation")


@staff_required
def session_element(request, pk):
    session = get_object_or_404(Session.objects.select_related("action__formation__organisme"), pk=pk)
    if request.method == "POST":
        formes = _decider(request, session)
        if formes is None:
            return redirect("validation:session", pk=session.pk)
        session.refresh_from_db()
    else:
        formes = _formes(session)
    return _element_page(request, session, session.action.formation, formes, "session")


def _element_page(request, obj, formation, formes, objet):
    courante = publication_courante(formation)
    diff = snapshot.diff(formation=snapshot.charger(formation.pk), publication_data=courante.data if courante else None)
    if objet == "session":
        diff["actions"] = [a for a in diff["actions"] if any(s["id"] == obj.pk for s in a["sessions"])]
        for a in diff["actions"]:
            a["sessions"] = [s for s in a["sessions"] if s["id"] == obj.pk]
    soumise_at = obj.soumise_at
    return render(
        request,
        "validation/element.html",
        {
            "obj": obj,
            "objet": objet,
            "formation": formation,
            "etat_label": Etat(obj.etat).label,
            "en_attente": obj.etat == Etat.EN_ATTENTE,
            "en_complement": obj.etat == Etat.COMPLEMENT,
            "peut_retirer": obj.etat in (Etat.VALIDEE, Etat.COMPLEMENT),
            "demande": _demande_ouverte(obj),
            "demandes": DemandeComplement.objects.filter(formation=formation).select_related(
                "demandee_par", "traitee_par", "session"
            ),
            "formes": formes,
            "diff": diff,
            "publication": courante,
            "journal": services.journal(formation),
            "echeance": delais.echeance(soumise_at) if soumise_at and obj.etat == Etat.EN_ATTENTE else None,
            "en_retard": bool(soumise_at) and obj.etat == Etat.EN_ATTENTE and delais.en_retard(soumise_at),
        },
    )


# --- the OF's follow-up page --------------------------------------------------------------------------------


def _formation_of(request, pk) -> Formation:
    formation = organisme_scope(request, Formation.objects.select_related("organisme")).filter(pk=pk).first()
    if formation is None:
        raise Http404
    return formation


@of_required(Intent.READ)
def suivi(request, pk):
    """Where the OF follows the validation of a formation: state, requests for complement, history."""
    formation = _formation_of(request, pk)
    sessions = Session.objects.filter(action__formation=formation).select_related("action").order_by("debut", "id")
    demandes = DemandeComplement.objects.filter(formation=formation).select_related("session")
    contact = request.contact
    notifications_formation_marquer_lues(user=request.user, formation=formation)
    return render(
        request,
        "validation/suivi.html",
        {
            "formation": formation,
            "sessions": sessions,
            "demandes": demandes,
            "demandes_ouvertes": [d for d in demandes if d.statut == DemandeComplement.Statut.OUVERTE],
            "peut_saisir": request.user.is_staff or (contact is not None and contact.peut_saisir),
            "publication": publication_courante(formation),
            "publications": Publication.objects.filter(formation=formation).order_by("-numero")[:10],
            "journal": services.journal(formation),
            "echeance": delais.echeance(formation.soumise_at)
            if formation.soumise_at and formation.etat == Etat.EN_ATTENTE
            else None,
        },
    )


@of_required(Intent.SAISIR)
@require_POST
def corrections_effectuees(request, pk):
    """The OF ticks "J'ai effectué les corrections": the item goes back to the GIP's validation."""
    demande = get_object_or_404(DemandeComplement.objects.select_related("formation"), pk=pk)
    formation = _formation_of(request, demande.formation_id)
    if request.POST.get("confirme") != "1":
        messages.error(request, "Cochez « J'ai effectué les corrections » pour renvoyer votre saisie à la validation.")
        return redirect("validation:suivi", pk=formation.pk)
    try:
        workflow.complement_corrections_effectuees(demande=demande, user=request.user)
    except ValidationError as exc:
        messages.error(request, _erreur(exc))
    else:
        echeance = delais.echeance(timezone.now())
        messages.success(
            request,
            "Merci : votre saisie est renvoyée à l'équipe offre, qui la validera sous 48 heures ouvrées "
            f"(au plus tard le {timezone.localtime(echeance):%d/%m/%Y à %H:%M}).",
        )
    suite = request.POST.get("next", "")
    if suite and url_has_allowed_host_and_scheme(suite, allowed_hosts={request.get_host()}, require_https=False):
        return redirect(suite)
    return redirect(reverse("validation:suivi", args=[formation.pk]))
