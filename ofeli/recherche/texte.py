"""French text normalisation for the SQLite engine: the same function for the indexed text and the query.

FTS5 has no French stemmer, so the text is stemmed here before it reaches FTS5: lower case,
accents removed (as PostgreSQL's unaccent does, œ → oe included), words split as unicode61 splits
them, French stop words dropped (PostgreSQL's french list), each word reduced by the French
Snowball stemmer (the algorithm PostgreSQL's french_stem uses). Accents are removed *before*
stemming so that "électricité" and "electricite" give the same stem.

`requete_fts5` turns what a user types, in the syntax of PostgreSQL's websearch_to_tsquery
(words, "a phrase", -excluded, or), into an FTS5 query where every term is quoted: no input can
make a syntax error.
"""

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+")
_STEMMER = snowballstemmer.stemmer("french")

# PostgreSQL's tsearch_data/french.stop (Snowball's French stop words), unaccented.
_STOP = """au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me même mes moi mon ne
nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d j l à m n
s t y été étée étées étés étant étante étants étantes suis es est sommes êtes sont serai seras sera serons serez seront
serais serait serions seriez seraient étais était étions étiez étaient fus fut fûmes fûtes furent sois soit soyons
soyez soient fusse fusses fût fussions fussiez fussent ayant ayante ayantes ayants eu eue eues eus ai as avons avez ont
aurai auras aura aurons aurez auront aurais aurait aurions auriez auraient avais avait avions aviez avaient eut eûmes
eûtes eurent aie aies ait ayons ayez aient eusse eusses eût eussions eussiez eussent"""


def sans_accents(texte: str) -> str:
    decomposed = unicodedata.normalize("NFKD", texte.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("œ", "oe").replace("æ", "ae")


STOP_WORDS = frozenset(sans_accents(w) for w in _STOP.split())


@lru_cache(maxsize=200_000)
def _racine(mot: str) -> str:
    return _STEMMER.stemWord(mot)


def mots(texte: str) -> list[str]:
    """The stems of the words of `texte`, in order, stop words left out."""
    return [_racine(m) for m in _WORD.findall(sans_accents(texte or "")) if m not in STOP_WORDS]


def normaliser(texte: str) -> str:
    """The text as FTS5 indexes it: stems separated by spaces."""
    return " ".join(mots(texte))


_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')


def _quote(terme: str) -> str:
    return '"' + terme.replace('"', '""') + '"'


def requete_fts5(saisie: str) -> str:
    """The FTS5 query for what a user typed, or "" when it holds no searchable word.

    Like websearch_to_tsquery: words are ANDed, "or" between two terms makes an alternative,
    a leading "-" excludes a word or a phrase, "..." is a phrase. Exclusions alone search nothing.
    """
    groupes: list[list[str]] = []  # ANDed groups of ORed terms
    exclus: list[str] = []
    ou_en_attente = False
    for phrase, mot in _TOKEN.findall(saisie or ""):
        negatif = False
        if mot:
            if mot.casefold() == "or":
                ou_en_attente = bool(groupes)
                continue
            if mot.startswith("-"):
                negatif, mot = True, mot[1:]
        racines = mots(phrase if phrase else mot)
        if not racines:
            continue
        terme = _quote(" ".join(racines))
        if negatif:
            exclus.append(terme)
        elif ou_en_attente:
            groupes[-1].append(terme)
        else:
            groupes.append([terme])
        ou_en_attente = False
    if not groupes:
        return ""
    expression = " AND ".join(g[0] if len(g) == 1 else "(" + " OR ".join(g) + ")" for g in groupes)
    for terme in exclus:
        expression += f" NOT {terme}"
    return expression


def a_des_mots(saisie: str) -> bool:
    """True when the text typed holds at least one searchable (non stop) word."""
    return bool(requete_fts5(saisie))
