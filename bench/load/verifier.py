"""After the load test: every write answered 2xx/302 is in the database exactly once, and nothing else was written.

    .venv/bin/python bench/load/verifier.py DOSSIER     # reads avant.json and ecrits.json, exits 1 on a mismatch

A request cut by the end of the run (or a client timeout) may be committed without its answer: such writes
must be among the attempted ones. So: confirmed ⊆ database (nothing lost), each at most once (no duplicate),
database ⊆ attempted (nothing invented).
"""

import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ofeli.settings")

import django  # noqa: E402

django.setup()

from django.db.models import Count  # noqa: E402

from ofeli.offre.models import Etat, Formation, Session  # noqa: E402
from ofeli.validation.models import Publication  # noqa: E402


def main():
    dossier = Path(sys.argv[1])
    avant = json.loads((dossier / "avant.json").read_text())
    ecrits = json.loads((dossier / "ecrits.json").read_text())
    erreurs = []
    prefixe = f"Charge {ecrits['run']} "

    en_base = Counter(Formation.objects.filter(intitule__startswith=prefixe).values_list("intitule", flat=True))
    confirmees, tentees = set(ecrits["formations"]), set(ecrits["formations_tentees"])
    if doublons := [t for t, n in en_base.items() if n > 1]:
        erreurs.append(f"{len(doublons)} formation(s) en double")
    if perdues := confirmees - set(en_base):
        erreurs.append(f"{len(perdues)} formation(s) confirmée(s) mais absente(s)")
    if inventees := set(en_base) - tentees:
        erreurs.append(f"{len(inventees)} formation(s) en base jamais envoyée(s)")
    nouvelles_formations = Formation.objects.count() - avant["formations"]
    if nouvelles_formations != sum(en_base.values()):
        erreurs.append(f"{nouvelles_formations} formations nouvelles dont {sum(en_base.values())} du test")

    sessions = {
        str(pk): n
        for pk, n in Session.objects.filter(action__formation__intitule__startswith=prefixe)
        .values_list("action__formation_id")
        .annotate(n=Count("pk"))
    }
    for pk in set(sessions) | set(ecrits["sessions_ok"]):
        ok, tente, vu = ecrits["sessions_ok"].get(pk, 0), ecrits["sessions_tentees"].get(pk, 0), sessions.get(pk, 0)
        if not ok <= vu <= tente:
            erreurs.append(f"formation {pk} : {vu} session(s) en base pour {ok} confirmée(s), {tente} tentée(s)")

    validees, tentees_v = Counter(ecrits["validations"]), set(ecrits["validations_tentees"])
    nouvelles = Counter(
        Publication.objects.filter(pk__gt=avant["publication_max"]).values_list("formation_id", flat=True)
    )
    if doubles := [pk for pk, n in nouvelles.items() if n > 1]:
        erreurs.append(f"{len(doubles)} formation(s) publiée(s) deux fois")
    if sans := [pk for pk in validees if nouvelles.get(pk, 0) != 1]:
        erreurs.append(f"{len(sans)} validation(s) confirmée(s) sans exactement une publication")
    if hors := [pk for pk in nouvelles if pk not in tentees_v]:
        erreurs.append(f"{len(hors)} publication(s) sans validation tentée")
    if Formation.objects.filter(pk__in=list(validees)).exclude(etat=Etat.VALIDEE).exists():
        erreurs.append("validation confirmée mais formation non « validée »")

    print(
        f"Formations : {len(tentees)} tentées, {len(confirmees)} confirmées, {sum(en_base.values())} en base.\n"
        f"Sessions : {sum(ecrits['sessions_tentees'].values())} tentées, {sum(ecrits['sessions_ok'].values())} "
        f"confirmées, {sum(sessions.values())} en base.\n"
        f"Validations : {len(tentees_v)} tentées, {len(validees)} confirmées, {sum(nouvelles.values())} nouvelles "
        f"publications ; conflits affichés (déjà validée, version changée) : {ecrits['conflits']}.\n"
        f"Écritures sans réponse 2xx/302 : {len(ecrits['echecs_ecriture'])} {ecrits['echecs_ecriture'][:5]}"
    )
    if erreurs:
        print("ÉCARTS : " + " ; ".join(erreurs))
        sys.exit(1)
    print("Aucune écriture perdue, dupliquée ni inventée.")


if __name__ == "__main__":
    main()
