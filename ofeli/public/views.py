"""The public site: search of the validated offer and one page per diffused formation. No login.

Pages are rendered from publications only (ofeli.public.services), cached server-side (Django
cache; the key holds the publication's id, or for search pages a generation that changes with
every validation) and sent with `Cache-Control: public, max-age=…`. Templates get no request
context (no user, no CSRF token), so the same bytes serve every visitor.
"""

import hashlib

from django.conf import settings
from django.contrib.sitemaps import views as sitemap_views
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from ofeli.core.region import current_region
from ofeli.organismes.gate import public
from ofeli.recherche.query import Tri
from ofeli.validation.models import Publication

from . import services
from .forms import RecherchePubliqueForm
from .sitemaps import SITEMAPS

CRITERES_AVANCES = ("debut_apres", "debut_avant", "financement", "certifiante", "a_distance", "terminees")
CACHE_TIMEOUT = getattr(settings, "OFELI_PUBLIC_CACHE_SECONDS", 600)
MAX_AGE = getattr(settings, "OFELI_PUBLIC_MAX_AGE", 300)


def _reponse(contenu: str | bytes, content_type: str = "text/html; charset=utf-8") -> HttpResponse:
    response = HttpResponse(contenu, content_type=content_type)
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response


def _contexte(**kwargs) -> dict:
    return {"region": current_region(), **kwargs}


def cle_fiche(publication_id: int, terminees: bool) -> str:
    return f"ofeli:public:fiche:{publication_id}:{int(terminees)}:{timezone.localdate().isoformat()}"


@public
@require_GET
def recherche(request):
    params = request.GET.copy()
    numero_page = params.pop("page", [None])[-1]
    if numero_page is not None and not (numero_page.isascii() and numero_page.isdigit() and len(numero_page) <= 6):
        numero_page = None  # not a page number: the first page, and never raw text in the cache key
    empreinte = hashlib.sha256(params.urlencode().encode()).hexdigest()[:32]
    cle = f"ofeli:public:recherche:{services.generation()}:{timezone.localdate().isoformat()}:{empreinte}:{numero_page}"
    contenu = cache.get(cle)
    if contenu is None:
        form = RecherchePubliqueForm(params)
        resultat = services.resultats(form, numero_page)
        donnees = getattr(form, "cleaned_data", {})
        avance = (
            bool(form.errors)
            or any(donnees.get(champ) for champ in CRITERES_AVANCES)
            or donnees.get("tri") not in (None, "", Tri.PERTINENCE)
        )
        contenu = render_to_string(
            "public/recherche.html",
            _contexte(
                form=form, resultat=resultat, mots=donnees.get("q", ""), avance=avance, sans_page=params.urlencode()
            ),
        )
        cache.set(cle, contenu, CACHE_TIMEOUT)
    return _reponse(contenu)


@public
@require_GET
def formation(request, numero, slug=None):
    trouvee = services.reperer(numero.upper())
    if trouvee is None:
        raise Http404("Cette formation n'est pas diffusée.")
    publication_id, intitule, numero_canonique = trouvee
    canonique = services.slug_de(intitule)
    numero_canonique = numero_canonique or numero.upper()
    if slug != canonique or numero != numero_canonique:
        url = reverse("public:formation", kwargs={"numero": numero_canonique, "slug": canonique})
        if request.GET:
            url += "?" + request.GET.urlencode()
        return redirect(url, permanent=True)
    terminees = request.GET.get("terminees") == "1"
    cle = cle_fiche(publication_id, terminees)
    contenu = cache.get(cle)
    if contenu is None:
        publication = Publication.objects.get(pk=publication_id)
        contenu = render_to_string(
            "public/formation.html", _contexte(fiche=services.fiche(publication, terminees=terminees))
        )
        cache.set(cle, contenu, CACHE_TIMEOUT)
    return _reponse(contenu)


def _sitemap_en_cache(request, cle: str, vue, **kwargs) -> HttpResponse:
    cle = f"ofeli:public:{cle}:{services.generation()}:{request.GET.get('p', '1')}:{request.get_host()}"
    contenu = cache.get(cle)
    if contenu is None:
        response = vue(request, **kwargs)
        response.render()
        contenu = response.content
        cache.set(cle, contenu, CACHE_TIMEOUT)
    return _reponse(contenu, content_type="application/xml")


@public
@require_GET
def sitemap(request):
    """The sitemap index: one sitemap per section (search page, formations by pages of 10,000)."""
    return _sitemap_en_cache(
        request, "sitemap", sitemap_views.index, sitemaps=SITEMAPS, sitemap_url_name="public:sitemap_section"
    )


@public
@require_GET
def sitemap_section(request, section):
    if section not in SITEMAPS:
        raise Http404("Section inconnue.")
    return _sitemap_en_cache(request, f"sitemap-{section}", sitemap_views.sitemap, sitemaps=SITEMAPS, section=section)
