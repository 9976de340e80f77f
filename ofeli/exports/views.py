"""Exports screens: the list of one's exports, "Exporter" (all formations or a search result), progress, download.

Small exports stream straight to the browser; above settings.OFELI_EXPORT_SYNC_MAX formations the export
becomes an Export row built by a background job, whose progress is shown (htmx polling, or a reload link
without JavaScript) and whose file is downloaded through the gate when ready.
"""

import os
import tempfile

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ofeli.lheo.writer import ExportStats, iter_document, iter_formation_fragments
from ofeli.organismes.gate import Intent, of_required, organisme_scope

from .excel import write_excel
from .models import Export
from .services import PARAMS_NON_CRITERES, a_des_criteres, export_creer, formations_du_contexte

CONTENT_TYPES = {
    Export.Format.LHEO: "application/xml; charset=utf-8",
    Export.Format.EXCEL: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def seuil_synchrone() -> int:
    return getattr(settings, "OFELI_EXPORT_SYNC_MAX", 1000)


def _export_pour(request, export_id: int) -> Export:
    """The gate for an export: staff reach every export, a contact only its organisme's (404 otherwise)."""
    queryset = organisme_scope(request, Export.objects.select_related("organisme", "user"))
    return get_object_or_404(queryset, pk=export_id)


def _criteres(query) -> dict:
    return {key: query.getlist(key) for key in query if key not in PARAMS_NON_CRITERES}


@of_required(Intent.READ)
def liste(request):
    from django.core.paginator import Paginator

    exports = organisme_scope(request, Export.objects.select_related("organisme", "user"))
    page = Paginator(exports, 25).get_page(request.GET.get("page"))
    return render(request, "exports/liste.html", {"exports": page, "page": page, "formats": Export.Format.choices})


def _nom(format: str) -> str:
    return f"ofeli-formations-{timezone.localtime():%Y%m%d-%H%M}.{'xml' if format == Export.Format.LHEO else 'xlsx'}"


def _telechargement_lheo(queryset):
    stats = ExportStats()
    response = StreamingHttpResponse(
        iter_document(iter_formation_fragments(queryset, stats)), content_type=CONTENT_TYPES[Export.Format.LHEO]
    )
    response["Content-Disposition"] = f'attachment; filename="{_nom(Export.Format.LHEO)}"'
    return response


def _telechargement_excel(queryset):
    fd, path = tempfile.mkstemp(prefix="ofeli-export-", suffix=".xlsx")
    os.close(fd)
    try:
        write_excel(path, queryset)
        handle = open(path, "rb")  # noqa: SIM115 (closed by FileResponse)
    finally:
        os.unlink(path)  # the open handle keeps the data until the response is sent
    return FileResponse(
        handle, as_attachment=True, filename=_nom(Export.Format.EXCEL), content_type=CONTENT_TYPES[Export.Format.EXCEL]
    )


@of_required(Intent.READ)
@require_http_methods(["GET", "POST"])
def exporter(request):
    """GET with the search page's query string (+ format): a download, or the offer of a background export.

    POST (from that offer) records the background export and shows its progress.
    """
    query = request.POST if request.method == "POST" else request.GET
    format = query.get("format", Export.Format.EXCEL)
    if format not in Export.Format.values:
        messages.error(request, "Format d'export inconnu : choisissez Excel ou LHEO.")
        return redirect("exports:liste")
    queryset, errors = formations_du_contexte(request, query)
    if errors:
        for values in errors.values():
            for message in values if isinstance(values, list) else [values]:
                messages.error(request, message)
        return redirect("exports:liste")
    total = queryset.count()
    if request.method == "POST":
        export = export_creer(
            user=request.user, organisme=request.organisme, format=format, params=_criteres(query), total=total
        )
        messages.success(request, "Votre export est en préparation : il sera téléchargeable ici dès qu'il sera prêt.")
        return redirect("exports:detail", export_id=export.pk)
    if total == 0 or (format == Export.Format.LHEO and not queryset.filter(actions__sessions__isnull=False).exists()):
        messages.warning(
            request,
            "Aucune formation à exporter."
            if total == 0
            else "Aucune formation avec une session : le format LHEO exige au moins une session par formation.",
        )
        return redirect("exports:liste")
    if total > seuil_synchrone():
        return render(
            request,
            "exports/confirmer.html",
            {
                "total": total,
                "format": format,
                "format_label": Export.Format(format).label,
                "criteres": [(k, v) for k, values in _criteres(query).items() for v in values],
                "recherche": a_des_criteres(query),
            },
        )
    if format == Export.Format.LHEO:
        return _telechargement_lheo(queryset)
    return _telechargement_excel(queryset)


@of_required(Intent.READ)
def detail(request, export_id):
    export = _export_pour(request, export_id)
    template = "exports/_progression.html" if request.htmx else "exports/detail.html"
    return render(request, template, {"export": export})


@of_required(Intent.READ)
def telecharger(request, export_id):
    export = _export_pour(request, export_id)
    if export.statut != Export.Statut.PRET or not export.fichier:
        raise Http404
    try:
        handle = default_storage.open(export.fichier.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle, as_attachment=True, filename=export.nom_fichier, content_type=CONTENT_TYPES[export.format]
    )
