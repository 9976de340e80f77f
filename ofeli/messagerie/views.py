"""Screens of the messagerie and of the notices.

Every view is gated: `of_required(Intent.READ)` (staff pass; a contact reaches only the threads of
its current organisme, another organisme's thread is a 404) or `authenticated` for the user's own
preferences. Any active contact may write (messaging changes no data of the offer).
"""

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ofeli.offre.models import Session
from ofeli.organismes.gate import Intent, authenticated, of_required

from . import notifications as notif
from . import services
from .forms import FiltreFilsForm, MessageForm, NouveauFilForm, PreferencesForm
from .models import Fil, Notification, PieceJointeMessage

PAR_PAGE = 25


def _fil_pour(request, pk) -> Fil:
    """The gate of a thread: staff reach any, a contact only those of its current organisme (404)."""
    qs = services.fils_visibles(request.user, request.organisme).select_related(
        "organisme", "formation", "session", "session__action__formation"
    )
    return get_object_or_404(qs, pk=pk)


def _erreurs_vers_formulaire(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@of_required(Intent.READ)
def fils(request):
    staff = request.user.is_staff
    form = FiltreFilsForm(request.GET or None, staff=staff)
    qs = services.annoter_non_lus(services.fils_visibles(request.user, request.organisme), request.user)
    qs = qs.select_related("organisme", "formation", "session")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data.get("q"):
            q = data["q"].strip()
            qs = qs.filter(
                Q(organisme__raison_sociale__icontains=q)
                | Q(organisme__nom__icontains=q)
                | Q(organisme__siret=q.replace(" ", ""))
            )
        if data.get("non_lus"):
            qs = qs.filter(non_lus__gt=0)
        if data.get("objet") == "formation":
            qs = qs.filter(formation__isnull=False)
        elif data.get("objet") == "general":
            qs = qs.filter(formation__isnull=True)
        if data.get("formation"):
            qs = qs.filter(formation_id=data["formation"])
    page = Paginator(qs.order_by("-dernier_message_at", "-id"), PAR_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "messagerie/fils.html",
        {
            "form": form,
            "page": page,
            "staff": staff,
            "querystring": params.urlencode(),
            "non_lus_total": services.messages_non_lus_count(user=request.user, organisme=request.organisme),
        },
    )


@of_required(Intent.READ)
def fil(request, fil_id):
    fil = _fil_pour(request, fil_id)
    staff = request.user.is_staff
    if request.method == "POST":
        form = MessageForm(request.POST, request.FILES, staff=staff)
        if form.is_valid():
            try:
                services.message_envoyer(
                    fil=fil,
                    auteur=request.user,
                    texte=form.cleaned_data["texte"],
                    lien=form.cleaned_data.get("lien"),
                    pieces=form.cleaned_data["pieces"],
                )
            except ValidationError as exc:
                _erreurs_vers_formulaire(form, exc)
            else:
                flash.success(request, "Votre message a été envoyé.")
                return redirect("messagerie:fil", fil_id=fil.pk)
    else:
        form = MessageForm(staff=staff)
    messages_du_fil = list(fil.messages.select_related("auteur").prefetch_related("pieces"))
    if request.method == "GET":
        services.fil_marquer_lu(fil=fil, user=request.user)
    return render(
        request,
        "messagerie/fil.html",
        {"fil": fil, "messages_du_fil": messages_du_fil, "form": form, "staff": staff},
    )


@of_required(Intent.READ)
def nouveau(request):
    """A new thread. ?formation=<id> or ?session=<id> (and ?organisme=<id> for staff) set what it is about."""
    staff = request.user.is_staff
    organisme = request.organisme
    session = None
    formation = None
    if staff and request.GET.get("organisme", "").isdigit():
        from ofeli.organismes.models import Organisme

        organisme = get_object_or_404(Organisme, pk=request.GET["organisme"])
    if request.GET.get("session", "").isdigit():
        session = get_object_or_404(
            Session.objects.select_related("action__formation__organisme"), pk=request.GET["session"]
        )
        if organisme is not None and session.action.formation.organisme_id != organisme.pk:
            raise Http404
        organisme = session.action.formation.organisme
        formation = session.action.formation
    initial = {}
    if formation is None and request.GET.get("formation", "").isdigit() and organisme is not None:
        initial["formation"] = request.GET["formation"]
    if formation is not None:
        initial["sujet"] = services.sujet_pour_objet(session=session)

    form_kwargs = {"staff": staff, "organisme": organisme, "avec_formation": session is None}
    if request.method == "POST":
        form = NouveauFilForm(request.POST, request.FILES, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            cible = data.get("organisme") or organisme
            try:
                nouveau_fil = services.fil_creer(
                    organisme=cible,
                    auteur=request.user,
                    sujet=data["sujet"],
                    texte=data["texte"],
                    formation=data.get("formation") or formation,
                    session=session,
                    lien=data.get("lien"),
                    pieces=data["pieces"],
                )
            except ValidationError as exc:
                _erreurs_vers_formulaire(form, exc)
            else:
                flash.success(request, "Votre message a été envoyé.")
                return redirect("messagerie:fil", fil_id=nouveau_fil.pk)
    else:
        form = NouveauFilForm(initial=initial, **form_kwargs)
    return render(
        request,
        "messagerie/nouveau.html",
        {"form": form, "organisme": organisme, "session": session, "formation": formation, "staff": staff},
    )


@of_required(Intent.READ)
def piece(request, piece_id):
    """Downloads an attachment, through the gate of its thread."""
    piece = get_object_or_404(PieceJointeMessage.objects.select_related("message__fil"), pk=piece_id)
    _fil_pour(request, piece.message.fil_id)
    response = FileResponse(
        piece.fichier.open("rb"), as_attachment=True, filename=piece.nom_original, content_type=piece.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@of_required(Intent.READ)
def notifications(request):
    qs = Notification.objects.filter(user=request.user)
    if request.organisme is not None:
        qs = qs.filter(organisme=request.organisme)
    page = Paginator(qs, PAR_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "messagerie/notifications.html",
        {
            "page": page,
            "non_lues": services.notifications_non_lues(user=request.user, organisme=request.organisme).count(),
        },
    )


def _retour(request, defaut="messagerie:notifications"):
    suivant = request.POST.get("suivant", "")
    if suivant and url_has_allowed_host_and_scheme(suivant, allowed_hosts={request.get_host()}):
        return redirect(suivant)
    return redirect(defaut)


@require_POST
@of_required(Intent.READ)
def notification_lue(request, notification_id):
    """Marks a notice read; with `ouvrir`, goes to what it is about."""
    notification = get_object_or_404(Notification, pk=notification_id, user=request.user)
    notif.notification_marquer_lue(notification=notification, user=request.user)
    if request.POST.get("ouvrir") and notification.lien and services.lien_est_local(notification.lien):
        return redirect(notification.lien)
    return _retour(request)


@require_POST
@of_required(Intent.READ)
def notifications_toutes_lues(request):
    nombre = notif.notifications_marquer_toutes_lues(user=request.user, organisme=request.organisme)
    flash.success(request, f"{nombre} notification(s) marquée(s) comme lue(s).")
    return _retour(request)


@authenticated
def preferences(request):
    """Which e-mails the user receives (one choice per type of notice)."""
    current = notif.preferences_pour(request.user)
    form = PreferencesForm(request.POST or None, preferences=current)
    if request.method == "POST" and form.is_valid():
        notif.preferences_enregistrer(user=request.user, choix=form.cleaned_data)
        flash.success(request, "Vos préférences de courriels ont été enregistrées.")
        return redirect(reverse("messagerie:preferences"))
    return render(request, "messagerie/preferences.html", {"form": form})
