"""Carif numbers of formations, actions and sessions (docs/decisions/validation-numeros-carif.md).

Given on first validation, unique (a unique constraint on each table), never reused: each kind has
a counter row (Compteur) that only goes up. The row is incremented by an UPDATE before it is read,
which locks it (PostgreSQL) or takes SQLite's write lock until the transaction ends: two
validations at the same time always get two different numbers.

Format, like the guide's session references ("308695S"): the counter's value followed by the
kind's letter, F for a formation, A for an action, S for a session. The counter starts above the
highest number of that kind already in the table (numbers kept from earlier systems), and a number
already taken (e.g. imported since) is skipped.
"""

import re

from django.db import transaction
from django.db.models import F

from ofeli.offre.models import Action, Formation, Session

from .models import Compteur

SUFFIXES = {"formation": "F", "action": "A", "session": "S"}
MODELES = {"formation": Formation, "action": Action, "session": Session}


def formater(valeur: int, objet: str) -> str:
    return f"{valeur}{SUFFIXES[objet]}"


def _plus_grand_existant(objet: str) -> int:
    suffixe = SUFFIXES[objet]
    motif = re.compile(rf"^(\d+){suffixe}$")
    plus_grand = 0
    for numero in MODELES[objet].objects.filter(numero__endswith=suffixe).values_list("numero", flat=True).iterator():
        m = motif.match(numero or "")
        if m:
            plus_grand = max(plus_grand, int(m.group(1)))
    return plus_grand


def numero_suivant(objet: str) -> str:
    """The next free Carif number for "formation", "action" or "session".

    The UPDATE of the counter takes its row lock (PostgreSQL) or the database's write lock (SQLite) until the
    end of the caller's transaction: two validations at the same time always get two different values. No
    savepoint of its own: it runs inside the validation's transaction, which fails as a whole.
    """
    if objet not in SUFFIXES:
        raise ValueError(objet)
    nom = f"carif_{objet}"
    modele = MODELES[objet]
    with transaction.atomic(savepoint=False):
        while True:
            if not Compteur.objects.filter(nom=nom).update(valeur=F("valeur") + 1):
                Compteur.objects.get_or_create(nom=nom, defaults={"valeur": _plus_grand_existant(objet)})
                continue
            valeur = Compteur.objects.values_list("valeur", flat=True).get(nom=nom)
            numero = formater(valeur, objet)
            if not modele.objects.filter(numero=numero).exists():
                return numero
