"""Searching the referentials for autocompletion: by code or by words of the label, accents and case ignored.

Each function returns at most `limite` entries, the best first. The views (ofeli.referentiels.views) and any other
screen that needs a suggestion list call these functions.
"""

import re

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Length

from .models import NSF, BlocCompetences, Certification, Commune, Formacode, Rome
from .text import mots, normaliser

LIMITE = 20
CERTIFICATION_CODE = re.compile(r"^\s*(rncp|rs)\s*(\d+)\s*$", re.IGNORECASE)


def _par_mots(qs, texte: str):
    """Every word of the query starts a word of the search column."""
    words = mots(texte)
    if not words:
        return qs.none(), words
    for word in words:
        qs = qs.filter(Q(recherche__startswith=word) | Q(recherche__contains=f" {word}"))
    return qs, words


def _rang(code_field: str, code: str, words: list[str]):
    whens = [When(**{code_field: code}, then=Value(0)), When(**{f"{code_field}__startswith": code}, then=Value(1))]
    if words:
        whens.append(When(recherche__contains=" " + " ".join(words), then=Value(2)))
    return Case(*whens, default=Value(3), output_field=IntegerField())


def communes(texte: str, *, limite: int = LIMITE, departement: str = ""):
    """By name ("orleans", "st jean"), postal code ("45000") or code INSEE ("45234")."""
    qs = Commune.objects.all()
    if departement:
        qs = qs.filter(departement=departement)
    texte = texte.strip()
    nom = normaliser(texte)
    # "st" / "ste" are how people type Saint / Sainte.
    nom = re.sub(r"\bste\b", "sainte", re.sub(r"\bst\b", "saint", nom))
    qs, words = _par_mots(qs, nom)
    rang = Case(
        When(code_insee=texte, then=Value(0)),
        When(recherche__startswith=nom, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return list(qs.annotate(rang=rang).order_by("rang", "-actuelle", "-population", "nom")[:limite])


def _code_libelle(model, texte: str, limite: int):
    texte = texte.strip()
    qs, words = _par_mots(model.objects.all(), texte)
    # Among equal matches, the shortest label (the most general entry) first.
    rang = _rang("code", texte.upper(), words)
    return list(qs.annotate(rang=rang).order_by("rang", Length("libelle"), "code")[:limite])


def formacodes(texte: str, *, limite: int = LIMITE):
    return _code_libelle(Formacode, texte, limite)


def nsf(texte: str, *, limite: int = LIMITE):
    return _code_libelle(NSF, texte, limite)


def romes(texte: str, *, limite: int = LIMITE):
    return _code_libelle(Rome, texte, limite)


def certifications(texte: str, *, limite: int = LIMITE, actives_seulement: bool = False):
    """By title words, or by code: "RNCP34078", "rncp 34078", "RS5192" or the number alone ("34078")."""
    qs = Certification.objects.all()
    if actives_seulement:
        qs = qs.filter(actif=True)
    match = CERTIFICATION_CODE.match(texte)
    if match:
        code = f"{match.group(1).upper()}{match.group(2)}"
        qs = qs.filter(code__startswith=code)
        rang = Case(When(code=code, then=Value(0)), default=Value(1), output_field=IntegerField())
    elif texte.strip().isdigit():
        digits = texte.strip()
        qs = qs.filter(Q(code__startswith=f"RNCP{digits}") | Q(code__startswith=f"RS{digits}"))
        rang = Case(
            When(Q(code=f"RNCP{digits}") | Q(code=f"RS{digits}"), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    else:
        qs, words = _par_mots(qs, texte)
        rang = _rang("code", texte.strip().upper(), words)
    return list(qs.annotate(rang=rang).order_by("rang", "-actif", "code")[:limite])


def blocs(texte: str, *, certifications: list[str], limite: int = 50):
    """The blocs de compétences of the given certifications (codes), filtered by words of their label or code."""
    qs = BlocCompetences.objects.filter(certification__code__in=certifications).select_related("certification")
    for word in mots(texte):
        qs = qs.filter(Q(libelle__icontains=word) | Q(code__icontains=word))
    return list(qs.order_by("code")[:limite])
