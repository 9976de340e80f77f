"""Locust scenario for the public site: visitors open formation pages and run searches.

Run by bench/bench_public.py --charge (which starts the server on 127.0.0.1 and writes the list of
formation URLs); by hand:

    OFELI_BENCH_URLS=/tmp/urls.txt OFELI_BENCH_DEPARTEMENTS=45,18 \
        .venv/bin/locust -f bench/locust_public.py --headless \
        -H http://127.0.0.1:8765 -u 100 -r 25 -t 30s --only-summary
"""

import os
import random
from pathlib import Path

from locust import HttpUser, between, task

URLS = [u for u in Path(os.environ["OFELI_BENCH_URLS"]).read_text(encoding="utf-8").split() if u]
MOTS = ["formation", "soudeur", "anglais", "électricien", "comptabilité", "aide-soignant", "cariste", "logistique"]
DEPARTEMENTS = os.environ["OFELI_BENCH_DEPARTEMENTS"].split(",")  # the region's, set by bench_public.py


class Visiteur(HttpUser):
    wait_time = between(0.5, 2)

    @task(5)
    def fiche(self):
        self.client.get(random.choice(URLS), name="/formations/[numero]/[slug]/")

    @task(3)
    def recherche_mot(self):
        self.client.get("/formations/", params={"q": random.choice(MOTS)}, name="/formations/?q=")

    @task(2)
    def recherche_lieu(self):
        self.client.get(
            "/formations/",
            params={"q": random.choice(MOTS), "departement": random.choice(DEPARTEMENTS), "certifiante": "on"},
            name="/formations/?q=&departement=&certifiante=",
        )

    @task(1)
    def page_suivante(self):
        self.client.get(
            "/formations/", params={"q": "formation", "page": random.randint(2, 20)}, name="/formations/?page="
        )
