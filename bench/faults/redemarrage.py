"""Fault drill: PostgreSQL restarts while OF contacts are saving formations through the web app.

Started by bench/faults/run on its scratch PostgreSQL database (FAUTES_DATABASE_URL), as root or the cluster's
owner: the restart command (FAUTES_REDEMARRER, by default `pg_ctlcluster <version> <cluster> restart` of the
cluster listening on the database's port) restarts the whole server, so run it on a machine of its own.

gunicorn serves the app on loopback with persistent database connections (as in production: every connection of
every thread is cut by the restart). WRITERS threads, each logged in as an OF contact, create formations through
the real form, one after the other; a probe reads /sante/. After DEBUT seconds the server is restarted; the
writers go on for APRES seconds. Then, from the database:
- every formation whose creation was answered by the redirect is there exactly once, complete (its search document
  and its history row);
- nothing is there that was not sent, nor any formation whose request was answered by an error page (an error page
  says « rien n'a été enregistré »): only a request left without an answer may have been committed;
- the requests during the restart got an error page in French (status 500) or no answer, never a page that
  pretends to have saved;
- the writes go through again after the restart without restarting the app, every one of them once the server is
  back (a persistent connection cut by the restart is checked before it is reused, not found broken by a user's
  request), and /sante/ said the database was down during the restart and up afterwards.
Prints the figures and exits 1 if any check fails.

    FAUTES_DATABASE_URL=postgres://postgres@127.0.0.1:5432/ofeli_fautes bash bench/faults/run
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ofeli.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from ofeli.offre.models import Formation  # noqa: E402
from ofeli.recherche.models import DocumentRecherche, Kind  # noqa: E402

PORT = int(os.environ.get("FAUTES_PORT", 8767))
HOTE = f"http://127.0.0.1:{PORT}"
WRITERS = int(os.environ.get("FAUTES_ECRIVAINS", 4))
DEBUT, APRES = 4.0, 8.0
RUN = uuid.uuid4().hex[:8]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORMULAIRE = "/offre/formations/nouvelle/"
DONNEES = {
    "objectif": "Acquérir les gestes du métier.",
    "resultats_attendus": "Attestation de fin de formation.",
    "contenu": "Sécurité, pratique, évaluation.",
    "parcours": "1",
    "niveau_entree": "1",
}


def commande_redemarrage() -> list[str]:
    if os.environ.get("FAUTES_REDEMARRER"):
        return os.environ["FAUTES_REDEMARRER"].split()
    port = str(connection.settings_dict.get("PORT") or 5432)
    clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    for ligne in clusters.splitlines():
        version, cluster, port_cluster, *_ = ligne.split()
        if port_cluster == port:
            return ["pg_ctlcluster", version, cluster, "restart"]
    raise SystemExit(f"Aucun cluster PostgreSQL sur le port {port} : indiquez FAUTES_REDEMARRER.")


def connecte(email: str, mot_de_passe: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{HOTE}/compte/connexion/", timeout=10)
    reponse = session.post(
        f"{HOTE}/compte/connexion/",
        {"username": email, "password": mot_de_passe, "csrfmiddlewaretoken": CSRF.search(page.text).group(1)},
        headers={"Referer": f"{HOTE}/compte/connexion/"},
        allow_redirects=False,
        timeout=10,
    )
    if reponse.status_code != 302:
        raise SystemExit(f"Connexion refusée pour {email} : HTTP {reponse.status_code}")
    return session


def ecrivain(session: requests.Session, arret: threading.Event, journal: list):
    """Creates formations one after the other; records each attempt: (mark, start, end, status, body excerpt)."""
    while not arret.is_set():
        marque = f"Redémarrage {RUN} {uuid.uuid4().hex[:12]}"
        debut = time.monotonic()
        try:
            page = session.get(HOTE + FORMULAIRE, timeout=10)
            jeton = CSRF.search(page.text)
            if page.status_code != 200 or not jeton:
                journal.append({"marque": None, "debut": debut, "fin": time.monotonic(), "statut": page.status_code,
                                "texte": page.text[:2000]})  # fmt: skip
                time.sleep(0.2)
                continue
            reponse = session.post(
                HOTE + FORMULAIRE,
                {**DONNEES, "intitule": marque, "csrfmiddlewaretoken": jeton.group(1)},
                headers={"Referer": HOTE + FORMULAIRE},
                allow_redirects=False,
                timeout=10,
            )
            journal.append({"marque": marque, "debut": debut, "fin": time.monotonic(), "statut": reponse.status_code,
                            "texte": reponse.text[:2000]})  # fmt: skip
        except requests.RequestException as exc:  # no answer: the request may or may not have been committed
            journal.append({"marque": marque, "debut": debut, "fin": time.monotonic(), "statut": 0,
                            "texte": exc.__class__.__name__})  # fmt: skip
            time.sleep(0.2)


def sonde(arret: threading.Event, releves: list):
    while not arret.is_set():
        t = time.monotonic()
        try:
            base = requests.get(f"{HOTE}/sante/", timeout=5).json().get("database", {}).get("ok")
        except (requests.RequestException, ValueError):
            base = None
        releves.append((t, base))
        time.sleep(0.2)


def main():
    if connection.vendor != "postgresql":
        raise SystemExit("Exercice de redémarrage : PostgreSQL seulement (FAUTES_DATABASE_URL=postgres://…).")
    redemarrer = commande_redemarrage()
    dossier = Path(tempfile.mkdtemp(prefix="redemarrage-"))
    env = {**os.environ, "CHARGE_OF": str(WRITERS), "CHARGE_STAFF": "0"}
    subprocess.run([sys.executable, str(ROOT / "bench/load/preparer.py"), str(dossier)], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    comptes = json.loads((dossier / "comptes.json").read_text())
    connection.close()  # the drill's own connection would be cut too: a new one is opened for the checks

    serveur = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "ofeli.wsgi", "--bind", f"127.0.0.1:{PORT}", "--workers", "2",
         "--threads", "4", "--worker-class", "gthread", "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "DB_CONN_MAX_AGE": "60", "DEBUG": "0"},
        stdout=subprocess.DEVNULL, stderr=open(dossier / "gunicorn.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    try:
        for _ in range(60):
            try:
                if requests.get(f"{HOTE}/formations/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(1)
        sessions = [connecte(c["email"], comptes["mot_de_passe"]) for c in comptes["of"][:WRITERS]]
        arret, journal, releves = threading.Event(), [], []
        fils = [threading.Thread(target=ecrivain, args=(s, arret, journal)) for s in sessions]
        fils.append(threading.Thread(target=sonde, args=(arret, releves)))
        for f in fils:
            f.start()
        time.sleep(DEBUT)
        coupure = time.monotonic()
        sortie = subprocess.run(redemarrer, capture_output=True, text=True)
        retour = time.monotonic()
        print(f"{' '.join(redemarrer)} : code {sortie.returncode}, {retour - coupure:.1f} s {sortie.stderr.strip()}")
        time.sleep(APRES)
        arret.set()
        for f in fils:
            f.join()
    finally:
        serveur.terminate()
        serveur.wait(timeout=30)

    en_base = list(Formation.objects.filter(intitule__startswith=f"Redémarrage {RUN}").values_list("pk", "intitule"))
    par_marque = {}
    for pk, intitule in en_base:
        par_marque.setdefault(intitule, []).append(pk)
    tentees = {e["marque"] for e in journal if e["marque"]}
    confirmees = {e["marque"] for e in journal if e["statut"] == 302}
    refusees = {e["marque"] for e in journal if e["marque"] and e["statut"] not in (0, 302)}
    sans_reponse = {e["marque"] for e in journal if e["statut"] == 0}
    completes = set(
        DocumentRecherche.objects.filter(kind=Kind.OFFRE, formation_id__in=[pk for pk, _ in en_base]).values_list(
            "formation_id", flat=True
        )
    )
    historisees = set(
        Formation.history.filter(id__in=[pk for pk, _ in en_base]).values_list("id", flat=True).distinct()
    )
    pendant = [e for e in journal if e["fin"] >= coupure and e["debut"] <= retour + 1]
    statuts_pendant = sorted({e["statut"] for e in pendant})
    erreurs_en_francais = all("rien n'a été enregistré" in e["texte"] or "rien n&#x27;a été enregistré" in e["texte"]
                              for e in pendant if e["statut"] == 500)  # fmt: skip
    apres = [e for e in journal if e["debut"] > retour + 1]
    base_coupee = any(ok is not True for t, ok in releves if coupure <= t <= retour + 1)
    base_revenue = any(ok is True for t, ok in releves if t > retour + 1)

    statuts = sorted({e["statut"] for e in journal})
    compte = {s: sum(1 for e in journal if e["statut"] == s) for s in statuts}
    repartition = ", ".join(f"{s or 'sans réponse'} × {compte[s]}" for s in statuts)
    print(f"Requêtes : {len(journal)} ; statuts : {repartition}")
    print(f"Formations : {len(tentees)} envoyées, {len(confirmees)} confirmées, {len(en_base)} en base, "
          f"{len(refusees)} refusées par une page d'erreur, {len(sans_reponse)} sans réponse.")  # fmt: skip
    print(f"Pendant le redémarrage : statuts {statuts_pendant} ; après : {sum(1 for e in apres if e['statut'] == 302)}"
          f" créations confirmées sur {len(apres)} tentatives.")  # fmt: skip
    erreurs = [e for e in journal if e["statut"] != 302]
    print(f"Erreurs (secondes depuis le début du redémarrage, qui a duré {retour - coupure:.1f} s) : "
          + (", ".join(f"{e['debut'] - coupure:+.1f}…{e['fin'] - coupure:+.1f} ({e['statut'] or 'sans réponse'})"
                       for e in erreurs) or "aucune"))  # fmt: skip
    controles = {
        "chaque création confirmée est en base, une seule fois": all(
            len(par_marque.get(m, [])) == 1 for m in confirmees
        ),
        "rien en base qui n'ait été envoyé": set(par_marque) <= tentees,
        "rien en base d'une requête répondue par une erreur": not (set(par_marque) & refusees),
        "en base seulement le confirmé, ou le sans-réponse": set(par_marque) <= confirmees | sans_reponse,
        "chaque formation en base est complète (document de recherche, historique)": (
            {pk for pk, _ in en_base} <= completes and {pk for pk, _ in en_base} <= historisees
        ),
        "pendant le redémarrage : une page d'erreur ou pas de réponse, jamais un faux succès": (
            bool(pendant) and all(e["statut"] in (0, 302, 500, 503) for e in pendant)
        ),
        "les pages d'erreur disent en français que rien n'a été enregistré": erreurs_en_francais,
        "les écritures reprennent sans redémarrer l'application": any(e["statut"] == 302 for e in apres),
        # Persistent connections cut by the restart are checked before reuse (CONN_HEALTH_CHECKS), not found
        # broken by a user's request.
        "la base revenue, plus aucune erreur": all(e["statut"] == 302 for e in apres),
        "/sante/ : base indisponible pendant, disponible après": base_coupee and base_revenue,
    }
    for libelle, ok in controles.items():
        print(f"  {'ok   ' if ok else 'ÉCHEC'} {libelle}")
    if not all(controles.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
