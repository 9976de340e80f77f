"""Search latency benchmark: the search page's work against its floor, the bare SQL of the same search.

Usage (data from `manage.py generate_offre --formations N`; SQLite by default, PostgreSQL with DATABASE_URL):

    .venv/bin/python bench/bench_search.py [--runs 30] [--warmup 3]
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_search.py

For each query of a fixed set (common and rare words, with and without filters, the sorts), it measures:
- "service": what the search page asks of the application for one page of results,
  `ofeli.recherche.services.page_pour` (staff scope): the form's validation, the count, the page's 20
  formations and their next session;
- "page": the whole view (form, search, page, template) called with a staff request;
- "floor": the SQL statements the service ran, recorded once and replayed with a bare cursor (no form, no
  ORM, no model instances), rows fetched.
It prints median and p95 (milliseconds) and the ratio service / floor at the median. Nothing is kept in the
database (the staff user the page needs is created in a transaction rolled back at the end) and nothing is
saved: copy the figures into docs/performance.md by hand with the machine's description.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ofeli.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.backends.signed_cookies import SessionStore  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from ofeli.core.region import current_region  # noqa: E402
from ofeli.recherche.models import CritereRecherche, DocumentRecherche, Kind  # noqa: E402
from ofeli.recherche.services import PAR_PAGE, page_pour  # noqa: E402
from ofeli.recherche.views import formations as vue_formations  # noqa: E402


def requetes():
    """The fixed set: (label, GET parameters)."""
    departement = current_region().departements[-1]
    numero = (
        CritereRecherche.objects.filter(nom=CritereRecherche.Nom.NUMERO, document__kind=Kind.OFFRE)
        .order_by("document_id")
        .values_list("valeur", flat=True)
        .first()
    )
    liste = [
        ("mot très courant « formation »", {"q": "formation"}),
        ("mot courant « stagiaires »", {"q": "stagiaires"}),
        ("mot moyen « soudeur »", {"q": "soudeur"}),
        ("mot rare « chaudronnier »", {"q": "chaudronnier"}),
        ("deux mots « électricien bâtiment »", {"q": "électricien bâtiment"}),
        ("mot absent « xylophone »", {"q": "xylophone"}),
        (
            "« formation » + département + certifiante",
            {"q": "formation", "departement": departement, "certifiante": "oui"},
        ),
        (
            "« formation » + dates (3 mois)",
            {"q": "formation", "debut_apres": "2027-01-01", "debut_avant": "2027-03-31"},
        ),
        ("« soudeur » + fonds publics + état validée", {"q": "soudeur", "fonds_publics": "oui", "etat": "validee"}),
        ("sans mot : département + dispositif", {"departement": departement, "dispositif": "aif"}),
        ("sans mot : tout, tri intitulé", {"tri": "intitule"}),
        ("« formation », tri prochaine session", {"q": "formation", "tri": "prochaine_session"}),
        ("« formation », tri mise à jour", {"q": "formation", "tri": "mise_a_jour"}),
    ]
    if numero:
        liste.append(("numéro Carif exact", {"numero": numero}))
    return liste


def _querydict(params):
    data = QueryDict(mutable=True)
    for key, value in params.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    return data


def _request(user, params):
    request = RequestFactory().get("/recherche/formations/", _querydict(params))
    request.user = user
    request.session = SessionStore()
    return request


def service(user, params):
    request = _request(user, params)
    resultat = page_pour(request, request.GET, 1)
    if resultat.erreurs:
        raise SystemExit(f"Critères refusés {params}: {resultat.erreurs}")
    return resultat.total, resultat.resultats


def page(user, params):
    response = vue_formations(_request(user, params))
    assert response.status_code == 200, response.status_code
    return response


def enregistrer_sql(user, params):
    """The statements (sql, params) the service runs for one search."""
    statements = []

    def wrapper(execute, sql, sql_params, many, context):
        statements.append((sql, sql_params))
        return execute(sql, sql_params, many, context)

    with connection.execute_wrapper(wrapper):
        service(user, params)
    return statements


def plancher(statements):
    with connection.cursor() as cursor:
        for sql, sql_params in statements:
            cursor.execute(sql, sql_params)
            if cursor.description is not None:
                cursor.fetchall()


CPU_MS: list[float] = []  # this process's CPU time per call of the last `mesurer` (SQLite: the engine's too)


def mesurer(fonction, runs, warmup):
    for _ in range(warmup):
        fonction()
    durees = []
    CPU_MS.clear()
    for _ in range(runs):
        cpu, debut = time.process_time(), time.perf_counter()
        fonction()
        durees.append((time.perf_counter() - debut) * 1000)
        CPU_MS.append((time.process_time() - cpu) * 1000)
    durees.sort()
    p95 = statistics.quantiles(durees, n=20, method="inclusive")[18] if len(durees) > 1 else durees[0]
    return statistics.median(durees), p95


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    documents = DocumentRecherche.objects.filter(kind=Kind.OFFRE).count()
    if not documents:
        raise SystemExit(
            "Aucun document de recherche : générez des données (manage.py generate_offre --formations N) "
            "ou reconstruisez l'index (manage.py reindex_recherche)."
        )
    # A staff user for the page's templates, created in a transaction rolled back at the end.
    with transaction.atomic():
        user = get_user_model().objects.create(email="bench-recherche@ofeli.invalid", is_staff=True)
        try:
            _mesurer_tout(args, user, documents)
        finally:
            transaction.set_rollback(True)


def _mesurer_tout(args, user, documents):
    moteur = connection.vendor
    version = (
        connection.cursor().connection.execute("select sqlite_version()").fetchone()[0] if moteur == "sqlite" else None
    )
    if moteur == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("show server_version")
            version = cursor.fetchone()[0]
    print(
        f"Recherche — {moteur} {version} — {documents} formations indexées — {platform.node()}, "
        f"{os.cpu_count()} cœurs, Python {platform.python_version()}"
    )
    print(
        f"{args.runs} mesures après {args.warmup} de chauffe ; millisecondes ; page de {PAR_PAGE} résultats ; "
        f"charge moyenne au départ {os.getloadavg()[0]:.1f} ; « cpu » = temps CPU de ce processus (médiane) "
        "pour le service.\n"
    )
    entete = (
        f"{'requête':48} {'trouvées':>9} {'service p50/p95':>17} {'page p50/p95':>15} "
        f"{'plancher p50/p95':>17} {'ratio':>6} {'cpu':>6}"
    )
    print(entete)
    print("-" * len(entete))
    tous_service, tous_page, tous_plancher = [], [], []
    for label, params in requetes():
        total, _ = service(user, params)
        statements = enregistrer_sql(user, params)
        s50, s95 = mesurer(lambda p=params: service(user, p), args.runs, args.warmup)
        cpu50 = statistics.median(CPU_MS)
        p50, p95 = mesurer(lambda p=params: page(user, p), args.runs, args.warmup)
        f50, f95 = mesurer(lambda st=statements: plancher(st), args.runs, args.warmup)
        tous_service.append(s95)
        tous_page.append(p95)
        tous_plancher.append(f95)
        print(
            f"{label[:48]:48} {total:>9} {s50:>8.1f}/{s95:<8.1f} {p50:>7.1f}/{p95:<7.1f} {f50:>8.1f}/{f95:<8.1f} "
            f"{s50 / f50 if f50 else float('nan'):>6.2f} {cpu50:>6.1f}"
        )
    print(
        f"\npire p95 : service {max(tous_service):.1f} ms, page {max(tous_page):.1f} ms, "
        f"plancher {max(tous_plancher):.1f} ms (objectif : p95 < 150 ms à 100 000 formations) ; "
        f"charge moyenne à la fin {os.getloadavg()[0]:.1f}."
    )


if __name__ == "__main__":
    main()
