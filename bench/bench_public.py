"""Public site benchmark: p95 of the formation page and of search pages, then a bounded load test.

Data: `manage.py generate_offre --formations N` (about half the formations are « validée »). The public
site reads publications only, and generate_offre writes none: `--preparer` builds them in bulk for every
validated formation that has none (the snapshot of ofeli.validation.snapshot.instantane, one Publication
per formation, bulk_create by batches of 500, then the public search documents with
ofeli.public.index.publications_indexer). It writes to the database in use: use a bench database.

    export DATABASE_URL=sqlite:////tmp/ofeli_bench_public.sqlite3   # or postgres://.../ofeli_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py generate_offre --formations 100000
    .venv/bin/python bench/bench_public.py --preparer --runs 200
    .venv/bin/python bench/bench_public.py --charge --users 100 --duree 30s

Latency: each page is fetched through the whole Django stack (test Client, middleware included),
"froid" with the cache emptied before each request (the server renders), "chaud" from the Django cache.
Load: gunicorn (2 workers × 8 threads, keep-alive 5 s: longer than a visitor's pause) on 127.0.0.1
and locust headless (bench/locust_public.py) with
`--users` visitors for `--duree`; prints requests, errors and latency percentiles. Nothing is saved:
copy the figures into docs/performance.md by hand.
"""

import argparse
import csv
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ofeli.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from ofeli.core.region import current_region  # noqa: E402
from ofeli.offre.models import Etat, Formation  # noqa: E402
from ofeli.public.index import publications_indexer  # noqa: E402
from ofeli.public.services import slug_de  # noqa: E402
from ofeli.validation import snapshot  # noqa: E402
from ofeli.validation.models import Publication  # noqa: E402

BATCH = 500
logging.getLogger("ofeli.request").setLevel(logging.WARNING)  # one line per request: not for a bench


def preparer_publications() -> int:
    """One current publication (and its public document) per validated formation that has none."""
    ids = list(
        Formation.objects.filter(etat=Etat.VALIDEE, publications__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    debut, total = time.perf_counter(), 0
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            now = timezone.now()
            publications = []
            formations = Formation.objects.filter(pk__in=ids[start : start + BATCH]).select_related("organisme")
            for formation in formations:
                data = snapshot.instantane(
                    formation=formation, precedente=None, retenir=lambda o: o.etat == Etat.VALIDEE
                )
                if not data["actions"]:
                    continue
                publications.append(
                    Publication(
                        formation=formation,
                        organisme_id=formation.organisme_id,
                        fonds_publics=snapshot.est_fonds_publics(data),
                        numero=1,
                        data=data,
                        validated_at=now,
                    )
                )
            Publication.objects.bulk_create(publications)
            total += publications_indexer(publications)
        print(f"  publications : {total}/{len(ids)} ({time.perf_counter() - debut:.0f} s)", flush=True)
    return total


def urls_formations(n: int) -> list[str]:
    lignes = list(
        Publication.objects.courantes()
        .exclude(formation__numero__isnull=True)
        .values_list("formation__numero", "data__formation__intitule")
    )
    random.Random(42).shuffle(lignes)
    return [
        reverse("public:formation", kwargs={"numero": num, "slug": slug_de(intitule)}) for num, intitule in lignes[:n]
    ]


def recherches() -> list[tuple[str, dict]]:
    departement = current_region().departements[-1]
    return [
        ("accueil (tout, sans critère)", {}),
        ("mot très courant « formation »", {"q": "formation"}),
        ("mot moyen « soudeur »", {"q": "soudeur"}),
        ("mot rare « chaudronnier »", {"q": "chaudronnier"}),
        (
            "« formation » + département + certifiante",
            {"q": "formation", "departement": departement, "certifiante": "on"},
        ),
        ("« anglais » + fonds publics", {"q": "anglais", "financement": "fonds_publics"}),
        ("département + à distance", {"departement": departement, "a_distance": "on"}),
        ("« formation », page 5", {"q": "formation", "page": "5"}),
        ("« formation » + sessions terminées", {"q": "formation", "terminees": "on"}),
    ]


def mesurer(client, url, params, runs, *, froid) -> list[float]:
    durees = []
    for _ in range(runs):
        if froid:
            cache.clear()
        t = time.perf_counter()
        response = client.get(url, params)
        durees.append((time.perf_counter() - t) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} {params} : HTTP {response.status_code}")
    return durees


def p95(durees):
    return statistics.quantiles(durees, n=20)[-1] if len(durees) >= 2 else durees[0]


def ligne(label, durees):
    print(f"  {label:<48} médiane {statistics.median(durees):7.1f} ms   p95 {p95(durees):7.1f} ms")


def latences(runs: int):
    client = Client()
    urls = urls_formations(max(runs, 50))
    if not urls:
        raise SystemExit("Aucune publication : lancez generate_offre puis ce script avec --preparer.")
    print(f"Page formation ({len(urls)} formations différentes, une requête chacune) :")
    for froid in (True, False):
        durees = []
        for url in urls[:runs]:
            if froid:
                cache.clear()
            else:
                client.get(url)  # fills the cache
            t = time.perf_counter()
            response = client.get(url)
            durees.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        ligne("froid (rendu)" if froid else "chaud (cache)", durees)
    print(f"Pages de recherche ({runs} requêtes chacune) :")
    url = reverse("public:recherche")
    for label, params in recherches():
        ligne(f"{label} — froid", mesurer(client, url, params, max(runs // 5, 5), froid=True))
        ligne(f"{label} — chaud", mesurer(client, url, params, runs, froid=False))


def charge(users: int, duree: str, port: int):
    urls = urls_formations(2000)
    with tempfile.TemporaryDirectory() as tmp:
        fichier = Path(tmp) / "urls.txt"
        fichier.write_text("\n".join(urls), encoding="utf-8")
        env = dict(os.environ, DEBUG="0", OFELI_BENCH_URLS=str(fichier))
        env["OFELI_BENCH_DEPARTEMENTS"] = ",".join(current_region().departements)
        # The server's request log goes to a file; its errors (if any) are printed after the run.
        journal = open(Path(tmp) / "serveur.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
        serveur = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "ofeli.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
             "-k", "gthread", "--threads", "8", "--keep-alive", "5", "--log-level", "warning"],
            cwd=ROOT, env=env, stderr=journal,
        )  # fmt: skip
        try:
            time.sleep(4)
            prefixe = Path(tmp) / "stats"
            subprocess.run(
                [str(ROOT / ".venv/bin/locust"), "-f", str(ROOT / "bench/locust_public.py"), "--headless",
                 "-H", f"http://127.0.0.1:{port}", "-u", str(users), "-r", str(max(users // 4, 1)),
                 "-t", duree, "--only-summary", "--csv", str(prefixe), "--loglevel", "WARNING"],
                cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            with open(f"{prefixe}_stats.csv", encoding="utf-8") as f:
                lignes = list(csv.DictReader(f))
        finally:
            serveur.terminate()
            serveur.wait(timeout=30)
            journal.close()
        erreurs_serveur = [
            ligne for ligne in (Path(tmp) / "serveur.log").read_text(encoding="utf-8").splitlines()
            if " ERROR " in ligne or "Traceback" in ligne or "[CRITICAL]" in ligne
        ]  # fmt: skip
    print(f"Charge : {users} visiteurs simultanés pendant {duree} (gunicorn 2×8 sur 127.0.0.1:{port}) :")
    for ligne_erreur in erreurs_serveur[:20]:
        print(f"  serveur : {ligne_erreur}")
    for row in lignes:
        print(
            f"  {row['Name']:<46} {row['Request Count']:>7} req  {row['Failure Count']:>4} erreurs  "
            f"médiane {row['50%']:>5} ms  p95 {row['95%']:>5} ms  p99 {row['99%']:>5} ms  "
            f"{float(row['Requests/s']):.1f} req/s"
        )
    total = next((r for r in lignes if r["Name"] == "Aggregated"), None)
    if total and int(total["Failure Count"]):
        raise SystemExit(f"{total['Failure Count']} erreurs")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preparer", action="store_true", help="construire les publications manquantes")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--charge", action="store_true", help="test de charge (gunicorn + locust)")
    parser.add_argument("--charge-seule", action="store_true", help="le test de charge sans les latences")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duree", default="30s")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    print(f"Machine : {platform.platform()}, {os.cpu_count()} cœurs ; base : {connection.vendor} ; cache : "
          f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}")  # fmt: skip
    if args.preparer:
        print(f"Publications construites : {preparer_publications()}")
    print(
        f"Formations : {Formation.objects.count()} ; diffusées (publications courantes) : "
        f"{Publication.objects.courantes().count()}"
    )
    if not args.charge_seule:
        latences(args.runs)
    if args.charge or args.charge_seule:
        charge(args.users, args.duree, args.port)


if __name__ == "__main__":
    main()
