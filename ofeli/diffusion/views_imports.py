"""Staff screens of the imports (upload, progress, report) and the OF's page of broken links."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ofeli.core.permissions import staff_required
from ofeli.exports import excel
from ofeli.organismes.gate import Intent, of_required

from . import imports, liens
from .models_imports import ImportRun, LienVerifie

TAILLE_MAX = 200 * 1024 * 1024  # 200 Mo


class ImportForm(forms.Form):
    fichier = forms.FileField(
        label="Fichier LHEO (XML) ou Excel (.xlsx)",
        help_text="Fichier LHEO 2.2 ou 2.3 exporté par la source, ou classeur Excel au format de l'export Excel "
        "d'OFeli (200 Mo au plus).",
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xml,.xlsx,application/xml,text/xml,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
    source = forms.ChoiceField(label="Source", choices=ImportRun.Source.choices)
    complet = forms.BooleanField(
        label="Fichier complet",
        required=False,
        help_text="Cochez si le fichier contient toute l'offre de la source : ce qui n'y figure plus sera archivé "
        "(jamais supprimé).",
    )

    def clean_fichier(self):
        fichier = self.cleaned_data["fichier"]
        if fichier.size > TAILLE_MAX:
            raise ValidationError("Le fichier dépasse 200 Mo.")
        if excel.est_un_classeur(fichier):
            try:
                excel.ouvrir_classeur(fichier).close()
            except excel.ClasseurIllisible as exc:
                raise ValidationError(str(exc)) from None
            finally:
                fichier.seek(0)
            return fichier
        debut = fichier.read(512).lstrip()
        fichier.seek(0)
        if not debut.startswith((b"<", b"\xef\xbb\xbf<")):
            raise ValidationError(
                "Ce fichier n'est ni un fichier XML ni un classeur Excel (.xlsx) : choisissez un fichier LHEO ou un "
                "classeur au format de l'export Excel d'OFeli."
            )
        return fichier


def _lancer(run: ImportRun):
    from .tasks_imports import import_offre_tache

    transaction.on_commit(lambda: import_offre_tache(run.pk))


@staff_required
@require_http_methods(["GET", "POST"])
def imports_liste(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            run = imports.import_creer(
                source=form.cleaned_data["source"],
                fichier=form.cleaned_data["fichier"],
                nom_fichier=form.cleaned_data["fichier"].name,
                complet=form.cleaned_data["complet"],
                user=request.user,
            )
            _lancer(run)
        messages.success(request, "L'import est lancé : suivez sa progression ci-dessous.")
        return redirect("diffusion:import_detail", pk=run.pk)
    runs = Paginator(ImportRun.objects.select_related("lance_par"), 20).get_page(request.GET.get("page"))
    return render(request, "diffusion/imports/liste.html", {"form": form, "runs": runs})


@staff_required
def import_detail(request, pk):
    run = get_object_or_404(ImportRun.objects.select_related("lance_par"), pk=pk)
    if request.htmx and not run.fini:
        return render(request, "diffusion/imports/_progression.html", {"run": run})
    rejets = Paginator(run.rejets.all(), 100).get_page(request.GET.get("page"))
    template = "diffusion/imports/_progression.html" if request.htmx else "diffusion/imports/detail.html"
    return render(request, template, {"run": run, "rejets": rejets})


@staff_required
@require_http_methods(["POST"])
def import_reprendre(request, pk):
    with transaction.atomic():
        run = get_object_or_404(ImportRun.objects.select_for_update(), pk=pk)
        if run.statut != ImportRun.Statut.ERREUR:
            messages.error(request, "Seul un import en erreur peut être repris.")
            return redirect("diffusion:import_detail", pk=run.pk)
        _lancer(run)
    messages.success(request, "L'import reprend après les formations déjà enregistrées.")
    return redirect("diffusion:import_detail", pk=run.pk)


@of_required(Intent.READ)
def liens_en_erreur(request):
    page = Paginator(liens.liens_en_erreur(request.organisme), 50).get_page(request.GET.get("page"))
    fiches = {LienVerifie.Objet.FORMATION: "offre:formation_detail", LienVerifie.Objet.SESSION: "offre:session_detail"}
    for lien in page:
        lien.libelle_objet = LienVerifie.Objet(lien.objet).label
        lien.fiche_url = reverse(fiches[lien.objet], args=[lien.objet_id]) if lien.objet in fiches else ""
    return render(request, "diffusion/liens_en_erreur.html", {"liens": page, "page": page})
