"""Screens of the diffusion: runs and partners (équipe offre), and a session's diffusion status (OF)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from ofeli.core.permissions import staff_required
from ofeli.offre.gate import get_session_for
from ofeli.offre.models import Dispositif
from ofeli.organismes.gate import Intent, of_required

from . import partenaires as services
from .feeds import fichier_run, statut_diffusion
from .models import DiffusionRun, JetonPartenaire, Partenaire

# --- runs ------------------------------------------------------------------------------------------------


@staff_required
def runs(request):
    if request.method == "POST":
        from .tasks import diffuser_partenaire_task

        nuit = timezone.localdate().isoformat()
        ids = list(Partenaire.objects.filter(actif=True).values_list("pk", flat=True))
        for pk in ids:
            transaction.on_commit(lambda pk=pk: diffuser_partenaire_task(pk, nuit, request.user.pk))
        messages.success(
            request,
            f"Diffusion de la nuit lancée en arrière-plan pour {len(ids)} partenaire{'s' if len(ids) > 1 else ''} : "
            "rechargez la page.",
        )
        return redirect("diffusion:runs")
    qs = DiffusionRun.objects.select_related("partenaire")
    statut = request.GET.get("statut", "")
    if statut in DiffusionRun.Statut.values:
        qs = qs.filter(statut=statut)
    from django.core.paginator import Paginator

    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "diffusion/runs.html",
        {"runs": page, "page": page, "statut": statut, "statuts": DiffusionRun.Statut.choices},
    )


@staff_required
def run_fichier(request, pk: int):
    run = get_object_or_404(DiffusionRun, pk=pk)
    fichier = fichier_run(run)
    if fichier is None:
        raise Http404
    return FileResponse(
        fichier,
        content_type="application/xml",
        as_attachment=True,
        filename=f"lheo-{run.partenaire.slug}-{run.nuit:%Y%m%d}-{run.kind}.xml",
    )


# --- partners --------------------------------------------------------------------------------------------


class PartenaireForm(forms.Form):
    nom = forms.CharField(max_length=150)
    slug = forms.SlugField(label="Identifiant", max_length=50, help_text="lettres, chiffres et tirets")
    type = forms.ChoiceField(choices=Partenaire.Type.choices)
    description = forms.CharField(max_length=500, required=False)
    perimetre = forms.ChoiceField(label="Offre transmise", choices=Partenaire.Perimetre.choices)
    dispositifs = forms.MultipleChoiceField(
        label="Dispositifs transmis",
        choices=Dispositif.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="seulement pour « Les sessions de certains dispositifs »",
    )
    exclure_terminees = forms.BooleanField(label="Sans les sessions terminées", required=False)
    actif = forms.BooleanField(label="Reçoit le flux chaque nuit", required=False)


def _enregistrer(request, form, partenaire=None):
    if not form.is_valid():
        return None
    try:
        if partenaire is None:
            return services.partenaire_creer(**form.cleaned_data)
        return services.partenaire_modifier(partenaire=partenaire, **form.cleaned_data)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    return None


@staff_required
def partenaires(request):
    form = PartenaireForm(request.POST or None, initial={"actif": True, "exclure_terminees": True})
    if request.method == "POST":
        partenaire = _enregistrer(request, form)
        if partenaire is not None:
            messages.success(request, f"Partenaire « {partenaire} » créé.")
            return redirect("diffusion:partenaire", pk=partenaire.pk)
    return render(
        request,
        "diffusion/partenaires.html",
        {"partenaires": Partenaire.objects.prefetch_related("jetons"), "form": form},
    )


@staff_required
def partenaire(request, pk: int):
    objet = get_object_or_404(Partenaire, pk=pk)
    initial = {f: getattr(objet, f) for f in PartenaireForm.base_fields}
    form = PartenaireForm(request.POST or None, initial=initial)
    jeton_clair = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "jeton_creer":
            form = PartenaireForm(initial=initial)
            _, jeton_clair = services.jeton_creer(
                partenaire=objet, user=request.user, libelle=request.POST.get("libelle", "")
            )
            messages.success(request, "Jeton créé : copiez-le maintenant, il ne sera plus affiché.")
        elif action == "jeton_revoquer":
            jeton = get_object_or_404(JetonPartenaire, pk=request.POST.get("jeton"), partenaire=objet)
            services.jeton_revoquer(jeton=jeton, user=request.user)
            messages.success(request, f"Jeton {jeton.prefixe}… révoqué : il ne donne plus accès à l'API.")
            return redirect("diffusion:partenaire", pk=objet.pk)
        else:
            if _enregistrer(request, form, objet) is not None:
                messages.success(request, "Partenaire enregistré.")
                return redirect("diffusion:partenaire", pk=objet.pk)
    return render(
        request,
        "diffusion/partenaire.html",
        {
            "partenaire": objet,
            "form": form,
            "jetons": objet.jetons.all(),
            "jeton_clair": jeton_clair,
            "runs": objet.runs.all()[:30],
        },
    )


# --- a session's diffusion, for its OF ------------------------------------------------------------------


@of_required(Intent.READ)
def session_statut(request, session_id: int):
    session = get_session_for(request, session_id, Intent.READ)
    statuts = statut_diffusion(session)
    return render(
        request,
        "diffusion/session_statut.html",
        {
            "session": session,
            "formation": session.action.formation,
            "statuts": statuts,
            "france_travail": [s for s in statuts if s.partenaire.type == Partenaire.Type.FRANCE_TRAVAIL],
        },
    )
