"""Mixed load of issue 9: OF contacts entering and searching, staff validating, public visitors browsing.

Started by bench/load/run (gunicorn on loopback, bounded in time and in requests). Users:
- OfContact (fixed 50 by default): logs in, creates a formation draft through the real form (CSRF included),
  adds a session to it, searches the offer, opens its list. Every create answered by a redirect is recorded.
- Staff (fixed 5): opens the validation queue, opens a formation waiting for validation and validates it
  (optimistic locking: two staff on the same formation give one validation and one conflict message).
- Visiteur (the rest): public search and formation pages.

At the end the records are written to $CHARGE_DOSSIER/ecrits.json for bench/load/verifier.py.
Environment: CHARGE_DOSSIER (from preparer.py), CHARGE_MAX_REQUETES (stop after that many requests), CHARGE_RYTHME
(soutenu or humain: the users' pauses, see RYTHMES).
"""

import json
import os
import random
import re
import uuid
from pathlib import Path

from locust import HttpUser, between, events, task

DOSSIER = Path(os.environ["CHARGE_DOSSIER"])
COMPTES = json.loads((DOSSIER / "comptes.json").read_text())
URLS = (DOSSIER / "urls.txt").read_text().split()
MAX_REQUETES = int(os.environ.get("CHARGE_MAX_REQUETES", "20000"))
# Pauses between two requests of a user, in seconds (CHARGE_RYTHME): "soutenu" (the default) is a stress test, each
# user clicking every 1–5 s; "humain" paces them as people reading and typing (a formation or session form takes a
# contact minutes to fill; docs/performance.md, Load test).
RYTHMES = {
    "soutenu": {"of": (1, 4), "staff": (2, 5), "visiteur": (1, 3)},
    "humain": {"of": (5, 15), "staff": (5, 15), "visiteur": (3, 10)},
}
PAUSES = RYTHMES[os.environ.get("CHARGE_RYTHME", "soutenu")]
RUN = uuid.uuid4().hex[:8]
MOTS = ["formation", "soudeur", "anglais", "électricien", "comptabilité", "aide-soignant", "cariste", "logistique"]

# What was attempted (before the request) and what was confirmed (2xx/302 received): a request cut by the end
# of the run may be committed without its answer, so the database must hold every confirmed write, once, and
# nothing that was not attempted.
ECRITS = {
    "run": RUN,
    "formations_tentees": [],
    "formations": {},
    "sessions_tentees": {},
    "sessions_ok": {},
    "validations_tentees": [],
    "validations": [],
    "conflits": 0,
    "echecs_ecriture": [],
}
_of_libres = list(COMPTES["of"])
_staff_libres = list(COMPTES["staff"])
_compteur = {"n": 0}

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@events.request.add_listener
def _borne(request_type, name, response_time, response_length, exception, context, **kwargs):
    _compteur["n"] += 1
    if _compteur["n"] == MAX_REQUETES:
        _environment["env"].runner.quit()


_environment = {}


@events.init.add_listener
def _init(environment, **kwargs):
    _environment["env"] = environment


@events.quitting.add_listener
def _ecrire(environment, **kwargs):
    (DOSSIER / "ecrits.json").write_text(json.dumps(ECRITS, indent=1, ensure_ascii=False))


def _csrf(response) -> str:
    match = CSRF.search(response.text)
    return match.group(1) if match else ""


class Connecte(HttpUser):
    abstract = True

    def connexion(self, email):
        page = self.client.get("/compte/connexion/", name="/compte/connexion/")
        reponse = self.client.post(
            "/compte/connexion/",
            {"username": email, "password": COMPTES["mot_de_passe"], "csrfmiddlewaretoken": _csrf(page)},
            headers={"Referer": self.host + "/compte/connexion/"},
            name="/compte/connexion/ [POST]",
            allow_redirects=False,
        )
        if reponse.status_code != 302:
            raise RuntimeError(f"connexion refusée pour {email} : {reponse.status_code}")

    def post(self, url, data, name, page):
        return self.client.post(
            url,
            {**data, "csrfmiddlewaretoken": _csrf(page)},
            headers={"Referer": self.host + url},
            name=name,
            allow_redirects=False,
        )


class OfContact(Connecte):
    fixed_count = int(os.environ.get("CHARGE_OF", 50))
    wait_time = between(*PAUSES["of"])

    def on_start(self):
        self.compte = _of_libres.pop() if _of_libres else random.choice(COMPTES["of"])
        self.connexion(self.compte["email"])
        self.mes_formations = []

    @task(2)
    def creer_formation_et_session(self):
        url = "/offre/formations/nouvelle/"
        page = self.client.get(url, name=url)
        if page.status_code != 200:
            return  # already counted as a failure; a POST without the form's CSRF token would only add a 403
        marque = f"Charge {RUN} {uuid.uuid4().hex[:12]}"
        donnees = {
            "intitule": marque,
            "objectif": "Acquérir les gestes du métier.",
            "resultats_attendus": "Attestation de fin de formation.",
            "contenu": "Sécurité, pratique, évaluation.",
            "parcours": "1",
            "niveau_entree": "1",
        }
        ECRITS["formations_tentees"].append(marque)
        reponse = self.post(url, donnees, f"{url} [POST]", page)
        match = re.search(r"/offre/formations/(\d+)/$", reponse.headers.get("Location", ""))
        if reponse.status_code != 302 or not match:
            ECRITS["echecs_ecriture"].append({"formation": marque, "statut": reponse.status_code})
            return
        pk = match.group(1)
        ECRITS["formations"][marque] = int(pk)
        self.mes_formations.append(pk)
        url = f"/offre/formations/{pk}/sessions/nouvelle/"
        page = self.client.get(url, name="/offre/formations/[id]/sessions/nouvelle/")
        if page.status_code != 200:
            return
        lieux = re.findall(r'name="lieux" value="(\d+)"', page.text)
        debut = random.randint(1, 28)
        ECRITS["sessions_tentees"][pk] = ECRITS["sessions_tentees"].get(pk, 0) + 1
        reponse = self.post(
            url,
            {
                "dispositif": "aif",
                "public_vise": ["80006"],
                "modalites_enseignement": "0",
                "rythme": "Temps plein",
                "entree_sortie_permanente": "0",
                "debut": f"2027-03-{debut:02d}",
                "fin": "2027-06-30",
                "etat_recrutement": "1",
                "lieux": lieux[:1],
            },
            "/offre/formations/[id]/sessions/nouvelle/ [POST]",
            page,
        )
        if reponse.status_code == 302:
            ECRITS["sessions_ok"][pk] = ECRITS["sessions_ok"].get(pk, 0) + 1
        else:
            ECRITS["echecs_ecriture"].append({"session_de": pk, "statut": reponse.status_code})

    @task(3)
    def rechercher(self):
        self.client.get("/recherche/formations/", params={"q": random.choice(MOTS)}, name="/recherche/formations/?q=")

    @task(1)
    def liste(self):
        self.client.get("/offre/formations/", name="/offre/formations/")

    @task(1)
    def detail(self):
        if self.mes_formations:
            self.client.get(f"/offre/formations/{random.choice(self.mes_formations)}/", name="/offre/formations/[id]/")


class Staff(Connecte):
    fixed_count = int(os.environ.get("CHARGE_STAFF", 5))
    wait_time = between(*PAUSES["staff"])

    def on_start(self):
        self.compte = _staff_libres.pop() if _staff_libres else random.choice(COMPTES["staff"])
        self.connexion(self.compte["email"])

    @task
    def valider(self):
        file = self.client.get("/validation/", name="/validation/")
        ids = re.findall(r'href="/validation/formations/(\d+)/"', file.text)
        if not ids:
            return
        pk = random.choice(ids[:20])
        url = f"/validation/formations/{pk}/"
        page = self.client.get(url, name="/validation/formations/[id]/")
        version = re.search(r'name="valider-version" value="(\d+)"', page.text)
        if not version:
            return
        ECRITS["validations_tentees"].append(int(pk))
        reponse = self.post(
            url,
            {"operation": "valider", "valider-version": version.group(1), "valider-message": ""},
            "/validation/formations/[id]/ [POST]",
            page,
        )
        if reponse.status_code == 302:
            ECRITS["validations"].append(int(pk))
        elif reponse.status_code == 200:
            ECRITS["conflits"] += 1  # shown again with an error (changed meanwhile, already validated)
        else:
            ECRITS["echecs_ecriture"].append({"validation": pk, "statut": reponse.status_code})


class Visiteur(HttpUser):
    wait_time = between(*PAUSES["visiteur"])

    @task(5)
    def fiche(self):
        self.client.get(random.choice(URLS), name="/formations/[numero]/[slug]/")

    @task(3)
    def recherche(self):
        self.client.get("/formations/", params={"q": random.choice(MOTS)}, name="/formations/?q=")

    @task(1)
    def page_suivante(self):
        self.client.get(
            "/formations/", params={"q": "formation", "page": random.randint(2, 10)}, name="/formations/?page="
        )
