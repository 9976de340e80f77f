"""Charts drawn on the server as SVG (docs/decisions/charts-svg-serveur.md).

Plain Python: each function turns figures the page has already queried into a `Graphique` holding
the geometry the template `core/_graphique.html` draws (bars, labels, reference line) and the
rows of the table that repeats the same figures for screen readers. No colour carries meaning
alone: the second series is hatched, every bar has its value written next to it, the diffusion
grid writes a symbol and a number in each cell.

Sizes are in SVG user units inside a viewBox, so the picture scales with the page.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

_ids = itertools.count(1)

# Horizontal bars
LARGEUR = 520
LIBELLE_L = 170  # room for the category labels on the left
BARRE_H = 22
ECART_H = 8
MARGE = 10
VALEUR_L = 60  # room for the value written after the longest bar

# Vertical bars
HAUTEUR_TRACE = 200
AXE_B = 44  # room under the bars for the category labels


@dataclass
class Rect:
    x: float
    y: float
    largeur: float
    hauteur: float
    serie: int  # 0 plain, 1 hatched, 2 dotted: readable without colour
    valeur: float
    texte: str  # the value written on or next to the bar
    texte_x: float
    texte_y: float
    titre: str  # tooltip (<title>) : "catégorie — série : valeur"


@dataclass
class Libelle:
    x: float
    y: float
    texte: str
    ancre: str = "end"


@dataclass
class Graphique:
    titre: str
    description: str
    colonnes: list[str]  # table header: first the category, then one column per series
    lignes: list[list[str]]  # table rows, the same figures as the picture
    vide: str  # what to show (and do) when there is nothing to draw
    largeur: float = LARGEUR
    hauteur: float = 0
    base: float = 0  # the x axis of vertical bars (0: none)
    rects: list[Rect] = field(default_factory=list)
    libelles: list[Libelle] = field(default_factory=list)
    reference: dict | None = None  # {"y": .., "x1": .., "x2": .., "texte": ..} a horizontal line (a promise)
    series: list[tuple[int, str]] = field(default_factory=list)  # legend: (serie, name)
    cellules: list[dict] = field(default_factory=list)  # grid charts (diffusion runs)
    sous_titre: str = ""  # a line under the title (the grid's nights)
    taille_texte: int = 13  # font size of the labels, in user units
    taille_valeurs: int = 13  # font size of the values written on the bars
    id: str = ""

    def __post_init__(self):
        if not self.id:
            self.id = f"graphique-{next(_ids)}"

    @property
    def est_vide(self) -> bool:
        return not self.rects and not self.cellules

    @property
    def legende(self) -> list[dict]:
        return [{"serie": s, "nom": nom, "y": 10 + i * 18} for i, (s, nom) in enumerate(self.series)]


def nombre(valeur: float) -> str:
    """French figures: 1 234 and 12,5."""
    if float(valeur).is_integer():
        return f"{int(valeur):,}".replace(",", "\u202f")
    return f"{valeur:,.1f}".replace(",", "\u202f").replace(".", ",")


def barres_horizontales(
    *, titre: str, description: str, donnees: list[tuple[str, float]], categorie: str, unite: str, vide: str
) -> Graphique:
    """One bar per category, longest = widest, the value written after the bar."""
    lignes = [[libelle, nombre(v)] for libelle, v in donnees]
    g = Graphique(titre=titre, description=description, colonnes=[categorie, unite], lignes=lignes, vide=vide)
    if not donnees or not any(v for _, v in donnees):
        return g
    maximum = max(v for _, v in donnees)
    place = LARGEUR - LIBELLE_L - VALEUR_L - MARGE
    for i, (libelle, v) in enumerate(donnees):
        y = MARGE + i * (BARRE_H + ECART_H)
        w = place * v / maximum if maximum else 0
        g.rects.append(
            Rect(
                x=LIBELLE_L,
                y=y,
                largeur=round(w, 1),
                hauteur=BARRE_H,
                serie=0,
                valeur=v,
                texte=nombre(v),
                texte_x=round(LIBELLE_L + w + 6, 1),
                texte_y=y + BARRE_H * 0.7,
                titre=f"{libelle} : {nombre(v)}",
            )
        )
        g.libelles.append(Libelle(x=LIBELLE_L - 6, y=y + BARRE_H * 0.7, texte=_court(libelle, 22)))
    g.hauteur = MARGE * 2 + len(donnees) * (BARRE_H + ECART_H)
    return g


def barres_verticales(
    *,
    titre: str,
    description: str,
    categories: list[str],
    series: list[tuple[str, list[float | None]]],
    categorie: str,
    vide: str,
    reference: tuple[float, str] | None = None,
    format_valeur=nombre,
    largeur: int = 640,
) -> Graphique:
    """Grouped vertical bars: one group per category, one bar per series (plain, hatched, dotted).

    The bars carry their bare figure (the unit is in the legend); the table writes it with `format_valeur`.

    A None value is "no figure" (written "—" in the table, no bar); `reference` draws a horizontal
    line at that value with its label (the 48-working-hour promise)."""
    lignes = [
        [cat] + ["—" if s[1][i] is None else format_valeur(s[1][i]) for s in series] for i, cat in enumerate(categories)
    ]
    g = Graphique(
        titre=titre,
        description=description,
        colonnes=[categorie] + [nom for nom, _ in series],
        lignes=lignes,
        vide=vide,
        series=[(i, nom) for i, (nom, _) in enumerate(series)],
        largeur=largeur,
        taille_texte=11,
        taille_valeurs=11,
    )
    valeurs = [v for _, vs in series for v in vs if v]
    if not categories or not valeurs:
        return g
    maximum = max(valeurs + ([reference[0]] if reference else []))
    haut = 30 + 18 * (len(series) - 1) if len(series) > 1 else 24  # room for the legend / values above
    gauche, droite = 40, 10
    pas = (largeur - gauche - droite) / len(categories)
    largeur_barre = min(40, (pas - 6) / len(series))
    base = haut + HAUTEUR_TRACE
    for i, cat in enumerate(categories):
        x0 = gauche + i * pas + (pas - largeur_barre * len(series)) / 2
        for s, (nom, vs) in enumerate(series):
            v = vs[i]
            if v is None:
                continue
            h = HAUTEUR_TRACE * v / maximum if maximum else 0
            x = x0 + s * largeur_barre
            g.rects.append(
                Rect(
                    x=round(x, 1),
                    y=round(base - h, 1),
                    largeur=round(largeur_barre - 2, 1),
                    hauteur=round(h, 1),
                    serie=s,
                    valeur=v,
                    texte=nombre(v),
                    texte_x=round(x + (largeur_barre - 2) / 2, 1),
                    texte_y=round(base - h - 4, 1),
                    titre=f"{cat} — {nom} : {format_valeur(v)}",
                )
            )
        g.libelles.append(Libelle(x=round(gauche + i * pas + pas / 2, 1), y=base + 16, texte=cat, ancre="middle"))
    if reference:
        y = round(base - HAUTEUR_TRACE * reference[0] / maximum, 1)
        g.reference = {"y": y, "x1": gauche, "x2": largeur - droite, "texte": reference[1], "texte_y": y - 4}
    g.hauteur = base + AXE_B
    g.base = base
    return g


def grille_diffusion(
    *, titre: str, description: str, nuits: list[str], partenaires: list[tuple[str, list[dict | None]]], vide: str
) -> Graphique:
    """One row per partner, one cell per night: ✓ and the number of formations sent, ✗ on error,
    · when nothing ran. Each cell: {"statut": "reussi"|"echec"|"en_cours", "formations": n}."""
    symboles = {"reussi": "✓", "echec": "✗", "en_cours": "…"}
    mots = {"reussi": "réussi", "echec": "échec", "en_cours": "en cours"}
    lignes = []
    for nom, cellules in partenaires:
        ligne = [nom]
        for c in cellules:
            if c is None:
                ligne.append("aucun flux")
            else:
                ligne.append(
                    f"{mots[c['statut']]}, {nombre(c['formations'])} formation{'s' if c['formations'] > 1 else ''}"
                )
        lignes.append(ligne)
    g = Graphique(titre=titre, description=description, colonnes=["Partenaire", *nuits], lignes=lignes, vide=vide)
    if not any(c for _, cs in partenaires for c in cs):
        return g
    gauche, cote, haut = 150, 34, 22
    g.largeur = gauche + cote * len(nuits) + 10
    g.sous_titre = f"Nuits du {nuits[0]} au {nuits[-1]} (jour du mois en tête de colonne)"
    for j, nuit in enumerate(nuits):
        g.libelles.append(Libelle(x=gauche + j * cote + cote / 2, y=haut - 8, texte=nuit[:2], ancre="middle"))
    for i, (nom, cellules) in enumerate(partenaires):
        y = haut + i * (cote + 4)
        g.libelles.append(Libelle(x=gauche - 6, y=y + cote * 0.6, texte=_court(nom, 18)))
        for j, c in enumerate(cellules):
            x = gauche + j * cote
            g.cellules.append(
                {
                    "x": x,
                    "y": y,
                    "cote": cote - 2,
                    "statut": c["statut"] if c else "aucun",
                    "symbole": symboles[c["statut"]] if c else "·",
                    "nombre": nombre(c["formations"]) if c else "",
                    "cx": x + (cote - 2) / 2,
                    "sy": y + 15,
                    "ny": y + 28,
                    "titre": f"{nom}, nuit du {nuits[j]} : {lignes[i][j + 1]}",
                }
            )
    g.hauteur = haut + len(partenaires) * (cote + 4) + 6
    return g


def _court(texte: str, n: int) -> str:
    return texte if len(texte) <= n else texte[: n - 1] + "…"
