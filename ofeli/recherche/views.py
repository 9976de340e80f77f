from django.shortcuts import render

from ofeli.organismes.gate import Intent, of_required

from .services import page_pour


@of_required(Intent.READ)
def formations(request):
    """ "Formation" in the left menu: search the offer by full text and criteria (GET, bookmarkable)."""
    resultat = page_pour(request, request.GET, request.GET.get("page"))
    form = resultat.form
    parametres = request.GET.copy()
    parametres.pop("page", None)
    avances = [nom for nom in form.fields if nom not in ("q", "tri")]
    context = {
        "form": form,
        "erreurs": resultat.erreurs,
        "page": resultat.page,
        "total": resultat.total,
        "plafond_atteint": resultat.plafond_atteint,
        "pertinence_plafonnee": resultat.pertinence_plafonnee,
        "resultats": resultat.resultats,
        "parametres": parametres.urlencode(),
        "staff": request.user.is_staff,
        "criteres_avances_ouverts": any(request.GET.get(nom) for nom in avances) or bool(resultat.erreurs),
    }
    return render(request, "recherche/formations.html", context)
