"""Carif numbers of formations, actions and sessions (docs/decisions/validation-numeros-carif.md).

Given on first validation, unique (a unique constraint on each table), never reused: each kind draws from
something that only goes up.
- PostgreSQL: a sequence per kind (migration validation 0002). `nextval` is outside transactions: two
  validations at the same time get two numbers without waiting for each other; a validation that fails leaves
  its number unused (a gap, never a duplicate).
- SQLite: a counter row per kind (Compteur), incremented by an UPDATE before it is read, which takes SQLite's
  write lock until the transaction ends (SQLite writes one transaction at a time anyway).

Format, like the guide's session references ("308695S"): the counter's value followed by the
kind's letter, F for a formation, A for an action, S for a session. The counter starts above the
highest number of that kind already in the table (numbers kept from earlier systems), and a number
already taken (e.g. imported since) is skipped.
"""

import re
import zlib

from django.db import connection, transaction
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

    No savepoint of its own: it runs inside the validation's transaction, which fails as a whole.
    """
    if objet not in SUFFIXES:
        raise ValueError(objet)
    modele = MODELES[objet]
    tirer = _valeur_sequence if connection.vendor == "postgresql" else _valeur_compteur
    with transaction.atomic(savepoint=False):
        while True:
            numero = formater(tirer(objet), objet)
            if not modele.objects.filter(numero=numero).exists():
                return numero


def _valeur_compteur(objet: str) -> int:
    """SQLite: the counter's next value. The UPDATE takes the database's write lock until the end of the caller's
    transaction: two validations at the same time always get two different values."""
    nom = f"carif_{objet}"
    while not Compteur.objects.filter(nom=nom).update(valeur=F("valeur") + 1):
        Compteur.objects.get_or_create(nom=nom, defaults={"valeur": _plus_grand_existant(objet)})
    return Compteur.objects.values_list("valeur", flat=True).get(nom=nom)


def _valeur_sequence(objet: str) -> int:
    """PostgreSQL: the sequence's next value. Never used yet (a new database), the sequence first starts above
    the highest number of its kind already present (numbers kept from an earlier system), under a lock of this
    transaction so that two first validations start it once."""
    sequence = f"validation_carif_{objet}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT is_called FROM {sequence}")  # noqa: S608  # nosec B608  # a constant name
        if not cursor.fetchone()[0]:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(sequence.encode())])
            cursor.execute(f"SELECT is_called FROM {sequence}")  # noqa: S608  # nosec B608  # a constant name
            if not cursor.fetchone()[0] and (depart := _plus_grand_existant(objet)) > 0:
                cursor.execute("SELECT setval(%s, %s, true)", [sequence, depart])
        cursor.execute("SELECT nextval(%s)", [sequence])
        return cursor.fetchone()[0]
