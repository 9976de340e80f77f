"""The OF's spreadsheet import screens: deposit, preview of the errors, column mapping, import, progress.

Every view is gated by of_required(Intent.SAISIR); an import is reached through organisme_scope (another OF's
import is a 404). The work runs as background jobs (ofeli.tableur.tasks); the detail page polls its progress
with htmx and offers a refresh link without JavaScript.
"""

import tempfile

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ofeli.offre.models import Formation
from ofeli.organismes.gate import Intent, of_required, organisme_scope

from . import lecture, services
from .forms import CorrespondanceForm, DepotForm
from .modele import write_modele
from .models import ImportTableur

XLSX = services.XLSX


def _organisme(request):
    if request.organisme is None:
        raise PermissionDenied("L'import d'un tableur se fait depuis le compte d'un organisme.")
    return request.organisme


def _import_pour(request, pk) -> ImportTableur:
    return get_object_or_404(organisme_scope(request, ImportTableur.objects.select_related("organisme", "user")), pk=pk)


@of_required(Intent.SAISIR)
@require_http_methods(["GET", "POST"])
def accueil(request):
    form = DepotForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        organisme = _organisme(request)
        if form.is_valid():
            try:
                imp = services.import_deposer(
                    organisme=organisme, user=request.user, fichier=form.cleaned_data["fichier"]
                )
            except ValidationError as exc:
                form.add_error("fichier", exc)
            else:
                messages.success(request, "Votre fichier est déposé : OFeli vérifie chaque ligne.")
                return redirect("tableur:detail", pk=imp.pk)
    imports = Paginator(
        organisme_scope(request, ImportTableur.objects.select_related("organisme", "user")), 20
    ).get_page(request.GET.get("page"))
    return render(request, "tableur/accueil.html", {"form": form, "imports": imports})


@of_required(Intent.SAISIR)
def modele(request):
    """The model to fill in; with ?avec=formations, the organisme's formations already in it."""
    organisme = _organisme(request)
    formations = None
    if request.GET.get("avec") == "formations":
        formations = Formation.objects.filter(organisme=organisme)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (closed by FileResponse)
    write_modele(handle, organisme=organisme, formations=formations)
    handle.seek(0)
    nom = f"ofeli-modele-import-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(handle, as_attachment=True, filename=nom, content_type=XLSX)


@of_required(Intent.SAISIR)
def detail(request, pk):
    imp = _import_pour(request, pk)
    if request.htmx and imp.en_cours:
        return render(request, "tableur/_progression.html", {"imp": imp})
    erreurs = Paginator(imp.erreurs.all(), 50).get_page(request.GET.get("page"))
    template = "tableur/_progression.html" if request.htmx else "tableur/detail.html"
    return render(request, template, {"imp": imp, "erreurs": erreurs})


@of_required(Intent.SAISIR)
@require_http_methods(["GET", "POST"])
def correspondance(request, pk):
    imp = _import_pour(request, pk)
    _organisme(request)
    if imp.statut not in (ImportTableur.Statut.CORRESPONDANCE, ImportTableur.Statut.VERIFIE) or (
        imp.statut == ImportTableur.Statut.VERIFIE and imp.correspondance_id is None
    ):
        messages.info(request, "Ce fichier suit le modèle OFeli : aucune correspondance de colonnes à faire.")
        return redirect("tableur:detail", pk=imp.pk)
    with imp.fichier.open("rb") as handle:
        try:
            classeur = lecture.Classeur(handle, organisme=imp.organisme)
        except lecture.CorrespondanceRequise as exc:
            entetes = exc.entetes
        except lecture.FichierRefuse as exc:
            messages.error(request, str(exc))
            return redirect("tableur:detail", pk=imp.pk)
        else:
            entetes = getattr(classeur, "entetes", [])
            classeur.close()
    if imp.correspondance is not None:
        initiales = {int(i): c for i, c in imp.correspondance.colonnes.items()}
    else:
        initiales = {i: lecture.suggestion(e) for i, e in enumerate(entetes)}
    form = CorrespondanceForm(request.POST or None, entetes=entetes, initiales=initiales)
    if request.method == "POST" and form.is_valid():
        try:
            services.correspondance_enregistrer(
                import_tableur=imp, user=request.user, entetes=entetes, colonnes=form.colonnes()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                "Correspondance enregistrée : elle sera reprise pour les prochains fichiers aux mêmes colonnes.",
            )
            return redirect("tableur:detail", pk=imp.pk)
    return render(request, "tableur/correspondance.html", {"imp": imp, "form": form})


@of_required(Intent.SAISIR)
@require_http_methods(["POST"])
def importer(request, pk):
    imp = _import_pour(request, pk)
    _organisme(request)
    try:
        services.import_lancer(import_tableur=imp, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "L'import des lignes valides est lancé : suivez sa progression ci-dessous.")
    return redirect("tableur:detail", pk=imp.pk)
