"""Benchmark of the nightly diffusion: full + delta feeds for 3 partners, time and peak memory.

Usage (a dedicated database; SQLite in var/ by default):

    DATABASE_URL=sqlite:////tmp/bench-diffusion.sqlite3 \
        .venv/bin/python bench/bench_diffusion.py --formations 100000 --migrate

1. The offer comes from `manage.py generate_offre --formations N` (called for the missing formations). It
   writes no publication (it bypasses the workflow on purpose), so the bench builds them directly, in bulk,
   for the generated formations in state « validée » that have no current publication: one Publication per
   formation whose data holds what the feeds read (formation id and number; per action its id, number and
   dispositif; per validated session its id, number, dates) — not the full snapshot of
   ofeli.validation.snapshot, which validating 100,000 formations one by one would take hours to write.
   Then their LHEO fragments are computed with ofeli.diffusion.feeds.preparer_fragments (what
   publication_lheo_preparer does at each validation, chunked): timed apart, it is validation-time work.
2. In a fresh process (its own peak memory), ofeli.diffusion.feeds.diffuser_partenaire for the regional site
   (everything), the national Carif-Oref base (sessions not ended) and France Travail (its dispositifs) on a
   new night: full file + delta (all new), XSD validation of both, atomic publication, runs recorded.
3. In another fresh process, the next night with nothing changed: full file again + an empty delta.
Figures are printed, not stored (docs/performance.md keeps the ones the team records).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ofeli.settings")

from memoire import pic_memoire_mo as _rss_mb  # noqa: E402

PARTENAIRES = ["site-regional", "base-nationale-carif-oref", "france-travail"]


def _setup():
    import django

    django.setup()


def publier_en_masse(batch: int = 2000) -> tuple[int, float]:
    """Publications (minimal data, see the docstring) and fragments for validated formations without one."""
    from django.db import transaction
    from django.db.models import Max
    from django.utils import timezone

    from ofeli.diffusion.feeds import preparer_fragments
    from ofeli.offre.models import Action, Etat, Formation, Session
    from ofeli.validation.models import Publication

    a_publier = list(
        Formation.objects.filter(etat=Etat.VALIDEE)
        .exclude(pk__in=Publication.objects.courantes().values("formation_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    start = time.perf_counter()
    now = timezone.now()
    for i in range(0, len(a_publier), batch):
        ids = a_publier[i : i + batch]
        formations = {f["id"]: f for f in Formation.objects.filter(pk__in=ids).values("id", "numero", "organisme_id")}
        actions = {}
        for a in Action.objects.filter(formation_id__in=ids).values("id", "numero", "dispositif", "formation_id"):
            actions[a["id"]] = {**a, "sessions": []}
        for s in Session.objects.filter(action_id__in=list(actions), etat=Etat.VALIDEE).values(
            "id", "numero", "debut", "fin", "action_id"
        ):
            actions[s["action_id"]]["sessions"].append(
                {"id": s["id"], "numero": s["numero"], "debut": s["debut"].isoformat(), "fin": s["fin"].isoformat()}
            )
        par_formation = {}
        for a in actions.values():
            if a["sessions"]:
                par_formation.setdefault(a.pop("formation_id"), []).append(a)
        derniers = dict(
            Publication.objects.filter(formation_id__in=ids)
            .values("formation_id")
            .annotate(n=Max("numero"))
            .values_list("formation_id", "n")
        )
        with transaction.atomic():
            publications = Publication.objects.bulk_create(
                [
                    Publication(
                        formation_id=fid,
                        organisme_id=formations[fid]["organisme_id"],
                        numero=derniers.get(fid, 0) + 1,
                        data={
                            "schema": 1,
                            "formation": {"id": fid, "numero": formations[fid]["numero"]},
                            "actions": par_formation[fid],
                        },
                        validated_at=now,
                    )
                    for fid in ids
                    if fid in par_formation
                ],
                batch_size=500,
            )
            preparer_fragments(publications)
    # Current publications written by another bench (bench_public.py --preparer: full snapshots) without a
    # fragment yet: theirs too, as publication_lheo_preparer does at each validation.
    from ofeli.diffusion.models import PublicationLheo

    sans_fragment = list(
        Publication.objects.courantes()
        .exclude(pk__in=PublicationLheo.objects.values("publication_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for i in range(0, len(sans_fragment), batch):
        with transaction.atomic():
            preparer_fragments(list(Publication.objects.filter(pk__in=sans_fragment[i : i + batch])))
    return len(a_publier) + len(sans_fragment), time.perf_counter() - start


def measure(nuit: str) -> dict:
    _setup()
    from ofeli.diffusion.feeds import diffuser_partenaire
    from ofeli.diffusion.models import Partenaire

    baseline = _rss_mb()
    results = []
    start_all, cpu_all = time.perf_counter(), time.process_time()
    for slug in PARTENAIRES:
        start = time.perf_counter()
        complet, delta = diffuser_partenaire(
            partenaire=Partenaire.objects.get(slug=slug), nuit=datetime.date.fromisoformat(nuit)
        )
        results.append(
            {
                "partenaire": slug,
                "seconds": time.perf_counter() - start,
                "complet": complet.nb_formations,
                "sessions": complet.nb_sessions,
                "complet_mb": complet.taille / 1e6,
                "delta": delta.nb_formations,
                "retirees": delta.nb_retirees,
            }
        )
    return {
        "seconds": time.perf_counter() - start_all,
        "cpu_seconds": time.process_time() - cpu_all,
        "peak_rss_mb": _rss_mb(),
        "baseline_rss_mb": baseline,
        "partenaires": results,
    }


def _run_child(nuit: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", nuit], check=True, capture_output=True, text=True, env=os.environ.copy()
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--formations", type=int, default=10000)
    parser.add_argument("--migrate", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    _setup()
    from django.core.management import call_command
    from django.db import connection

    from ofeli.diffusion.models import DiffusionRun
    from ofeli.offre.models import Formation
    from ofeli.referentiels.models import Commune
    from ofeli.validation.models import Publication

    if args.migrate:
        call_command("migrate", verbosity=0)
    existing = Formation.objects.count()
    if existing < args.formations:
        print(f"Génération de {args.formations - existing} formations (manage.py generate_offre)…", flush=True)
        if not Commune.objects.exists():
            call_command("load_referentiels", verbosity=0)
        call_command("generate_offre", formations=args.formations - existing, seed=args.seed, verbosity=0)
    nb, seconds = publier_en_masse()
    if nb:
        print(f"Publications et fragments LHEO préparés pour {nb} formations en {seconds:.1f} s ({nb / seconds:.0f}/s)")
    publiees = Publication.objects.courantes().count()
    derniere = DiffusionRun.objects.order_by("-nuit").values_list("nuit", flat=True).first()
    nuit = max(datetime.date.today(), (derniere or datetime.date.today()) + datetime.timedelta(days=1))
    connection.close()
    print(f"Machine : {platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()}")
    print(f"Base : {connection.vendor} ; {Formation.objects.count()} formations, {publiees} publications courantes")
    for label, night in (
        ("première nuit (delta = tout)", nuit),
        ("nuit suivante, rien de changé", nuit + datetime.timedelta(days=1)),
    ):
        result = _run_child(night.isoformat())
        pendant = result["peak_rss_mb"] - result["baseline_rss_mb"]
        print(
            f"{label} : 3 partenaires en {result['seconds']:.1f} s (CPU {result['cpu_seconds']:.1f} s) ;"
            f" pic mémoire {result['peak_rss_mb']:.0f} Mo (dont {pendant:.0f} Mo"
            " pendant la diffusion)"
        )
        for p in result["partenaires"]:
            print(
                f"  {p['partenaire']:<28} {p['seconds']:6.1f} s ; complet {p['complet']} formations,"
                f" {p['sessions']} sessions, {p['complet_mb']:.0f} Mo ; delta {p['delta']} formations,"
                f" {p['retirees']} retirées"
            )
    print("Objectif : diffusion vers 3 partenaires < 5 min.")


if __name__ == "__main__":
    main()
