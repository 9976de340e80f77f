"""Autocompletion endpoints of the referentials.

Each answers `?q=` with JSON `{"results": [{"code", "libelle", "label"}]}`, or, for htmx requests and `?format=html`,
an HTML fragment of `<option>` elements (template referentiels/_options.html) that ofeli/static/ofeli/autocomplete.js
puts in the field's `<datalist>`. Referentials are public data (the public search uses them too): the views are open.
"""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ofeli.organismes.gate import public

from . import search
from .models import BlocCompetences, Certification, Commune

MAX_QUERY = 100


def etiquette(obj) -> str:
    """The label a user sees for a referential entry."""
    if isinstance(obj, Commune):
        cps = ", ".join(obj.codes_postaux[:3])
        return f"{obj.nom} ({obj.departement})" + (f" – {cps}" if cps else "") + f" – INSEE {obj.code_insee}"
    if isinstance(obj, Certification):
        niveau = f" (niveau {obj.niveau.removeprefix('NIV')})" if obj.niveau else ""
        inactive = " – fiche inactive" if not obj.actif else ""
        return f"{obj.code} – {obj.intitule}{niveau}{inactive}"
    if isinstance(obj, BlocCompetences):
        return f"{obj.code} – {obj.libelle}"
    return f"{obj.code} – {obj.libelle}"


def _code(obj) -> str:
    return obj.code_insee if isinstance(obj, Commune) else obj.code


def _libelle(obj) -> str:
    if isinstance(obj, Commune):
        return obj.nom
    return obj.intitule if isinstance(obj, Certification) else obj.libelle


def _query(request) -> str:
    return request.GET.get("q", "")[:MAX_QUERY]


def _respond(request, results):
    items = [{"code": _code(o), "libelle": _libelle(o), "label": etiquette(o)} for o in results]
    if request.htmx or request.GET.get("format") == "html":
        return render(request, "referentiels/_options.html", {"items": items})
    return JsonResponse({"results": items})


@public
@require_GET
def communes(request):
    return _respond(request, search.communes(_query(request), departement=request.GET.get("departement", "")[:3]))


@public
@require_GET
def formacodes(request):
    return _respond(request, search.formacodes(_query(request)))


@public
@require_GET
def nsf(request):
    return _respond(request, search.nsf(_query(request)))


@public
@require_GET
def romes(request):
    return _respond(request, search.romes(_query(request)))


@public
@require_GET
def certifications(request):
    actives = request.GET.get("actives") == "1"
    return _respond(request, search.certifications(_query(request), actives_seulement=actives))


@public
@require_GET
def blocs(request):
    codes = [c.strip().upper() for c in request.GET.getlist("certification") if c.strip()][:20]
    return _respond(request, search.blocs(_query(request), certifications=codes))
