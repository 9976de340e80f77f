"""In-app help: the user guide's questions, rewritten for the product, one page per topic.

Each topic is a template under templates/core/aide/; screens link to the topic that explains them
with `{% url 'core:aide_sujet' 'saisir-session' %}`.
"""

from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render

from ofeli.organismes.gate import public


@dataclass(frozen=True)
class Sujet:
    slug: str
    titre: str
    rubrique: str


SUJETS = [
    Sujet("qui-peut-referencer", "Qui peut référencer son offre sur OFeli ?", "Premiers pas"),
    Sujet("ou-s-affiche-l-offre", "Où s'affiche l'offre référencée sur OFeli ?", "Premiers pas"),
    Sujet("compte", "Créer, activer mon compte et me connecter", "Premiers pas"),
    Sujet("double-authentification", "La double authentification (équipe offre)", "Premiers pas"),
    Sujet("tableau-de-bord", "Que contient mon tableau de bord ?", "Mon organisme"),
    Sujet("campagne-annuelle", "La campagne annuelle et les rappels", "Mon organisme"),
    Sujet("organisme", "Mettre à jour ma fiche organisme", "Mon organisme"),
    Sujet("contacts", "Gérer mes contacts et leurs droits", "Mon organisme"),
    Sujet("quelles-formations", "Quelles formations saisir (ou ne pas saisir) ?", "Saisir mon offre"),
    Sujet("saisir-formation", "Saisir une formation", "Saisir mon offre"),
    Sujet("saisir-session", "Saisir une session (dupliquer, récurrente, à distance)", "Saisir mon offre"),
    Sujet("hors-region", "Une formation qui a lieu hors de la région", "Saisir mon offre"),
    Sujet("modifier-en-masse", "Modifier plusieurs sessions en une fois", "Saisir mon offre"),
    Sujet("reconduire", "Reconduire mes sessions sur l'année suivante", "Saisir mon offre"),
    Sujet("importer-tableur", "Importer mes formations depuis un tableur Excel", "Saisir mon offre"),
    Sujet("rechercher", "Rechercher une formation", "Retrouver et exporter"),
    Sujet("exporter", "Exporter mes formations (Excel, LHEO)", "Retrouver et exporter"),
    Sujet("diffusion", "Quand ma formation sera-t-elle diffusée ?", "Diffusion"),
    Sujet("kairos", "OFeli et Kairos (France Travail)", "Diffusion"),
    Sujet("contacter-le-gip", "Contacter l'équipe offre", "Besoin d'aide ?"),
]
SUJETS_PAR_SLUG = {s.slug: s for s in SUJETS}


@public
def index(request):
    rubriques: dict[str, list[Sujet]] = {}
    for sujet in SUJETS:
        rubriques.setdefault(sujet.rubrique, []).append(sujet)
    return render(request, "core/aide/index.html", {"rubriques": rubriques})


@public
def sujet(request, slug):
    sujet = SUJETS_PAR_SLUG.get(slug)
    if sujet is None:
        raise Http404
    return render(request, f"core/aide/{slug}.html", {"sujet": sujet, "sujets": SUJETS})
