"""The link checker, against a local HTTP server (never the internet)."""

import datetime
import http.server
import threading
import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from ofeli.diffusion import liens
from ofeli.diffusion.models_imports import LienVerifie
from ofeli.offre.models import Etat
from tests.factories import ActionFactory, ContactFactory, FormationFactory, OrganismeFactory, SessionFactory

pytestmark = pytest.mark.django_db

NUIT_1 = datetime.date(2026, 11, 2)
NUIT_2 = datetime.date(2026, 11, 3)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/ok"):
            self._repondre(200)
        elif self.path == "/absent":
            self._repondre(404)
        elif self.path == "/panne":
            self._repondre(500)
        elif self.path == "/lent":
            time.sleep(1.5)
            self._repondre(200)
        elif self.path == "/redirection":
            self._repondre(302, location="/ok/arrivee")
        elif self.path == "/boucle":
            self._repondre(302, location="/boucle")
        elif self.path == "/vers-absent":
            self._repondre(301, location="/absent")
        else:
            self._repondre(404)

    def _repondre(self, status, location=None):
        try:
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the checker gave up (timeout)

    def log_message(self, *args):
        pass


@pytest.fixture
def serveur():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def prive_autorise(settings):
    settings.LIENS_ADRESSES_PRIVEES_AUTORISEES = True


def test_each_kind_of_answer(serveur, prive_autorise):
    assert liens.verifier_url(f"{serveur}/ok") == (200, "")
    assert liens.verifier_url(f"{serveur}/redirection") == (200, "")
    status, erreur = liens.verifier_url(f"{serveur}/absent")
    assert status == 404 and "introuvable" in erreur
    status, erreur = liens.verifier_url(f"{serveur}/panne")
    assert status == 500 and "erreur du serveur" in erreur
    status, erreur = liens.verifier_url(f"{serveur}/vers-absent")
    assert status == 404
    status, erreur = liens.verifier_url(f"{serveur}/lent", timeout=0.5)
    assert status is None and "ne répond pas" in erreur
    status, erreur = liens.verifier_url(f"{serveur}/boucle", max_redirections=3)
    assert status == 302 and "trop de redirections" in erreur


def test_only_http_and_never_a_private_address_in_production(serveur, settings):
    settings.LIENS_ADRESSES_PRIVEES_AUTORISEES = False
    status, erreur = liens.verifier_url(f"{serveur}/ok")
    assert status is None and "adresse privée ou locale" in erreur
    for url in ("http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/"):
        assert "adresse privée ou locale" in liens.verifier_url(url)[1]
    assert "http et https" in liens.verifier_url("ftp://example.org/fichier")[1]
    assert "http et https" in liens.verifier_url("file:///etc/passwd")[1]


def test_a_link_is_broken_only_after_failing_on_two_different_nights(serveur, prive_autorise):
    organisme = OrganismeFactory(site_web=f"{serveur}/ok")
    formation = FormationFactory(organisme=organisme, url=f"{serveur}/absent")
    action = ActionFactory(formation=formation, url=f"{serveur}/redirection")
    session = SessionFactory(action=action, url=f"{serveur}/panne")
    archivee = FormationFactory(organisme=organisme, etat=Etat.ARCHIVE_OF, url=f"{serveur}/absent")
    autre = OrganismeFactory(site_web=f"{serveur}/lent")

    resultat = liens.verifier_liens(nuit=NUIT_1, timeout=0.5, max_threads=4)
    assert resultat == {"verifies": 5, "en_echec": 3, "en_erreur": 0, "retires": 0}
    assert not LienVerifie.objects.filter(objet="formation", objet_id=archivee.pk).exists()
    lien = LienVerifie.objects.get(objet="formation", objet_id=formation.pk)
    assert (lien.statut_http, lien.echecs_consecutifs, lien.premier_echec, lien.casse) == (404, 1, NUIT_1, False)
    assert liens.nombre_liens_en_erreur(organisme) == 0

    # The same night again: still one failing night.
    liens.verifier_liens(nuit=NUIT_1, timeout=0.5)
    assert LienVerifie.objects.get(objet="formation", objet_id=formation.pk).echecs_consecutifs == 1

    liens.verifier_liens(nuit=NUIT_2, timeout=0.5)
    casses = {(lv.objet, lv.objet_id) for lv in LienVerifie.objects.filter(casse=True)}
    assert casses == {("formation", formation.pk), ("session", session.pk), ("organisme", autre.pk)}
    assert liens.nombre_liens_en_erreur(organisme) == 2
    assert liens.nombre_liens_en_erreur(autre) == 1
    lien = LienVerifie.objects.get(objet="session", objet_id=session.pk)
    assert (lien.premier_echec, lien.echecs_consecutifs) == (NUIT_1, 2)
    assert LienVerifie.objects.get(objet="action", objet_id=action.pk).erreur == ""

    # Fixed: one good night clears it; a removed URL leaves the list.
    formation.url = f"{serveur}/ok/corrige"
    formation.save()
    session.url = ""
    session.save()
    resultat = liens.verifier_liens(nuit=datetime.date(2026, 11, 4), timeout=0.5)
    assert resultat["retires"] == 2  # the session's link, and the formation's old URL
    assert liens.nombre_liens_en_erreur(organisme) == 0
    lien = LienVerifie.objects.get(objet="formation", objet_id=formation.pk)
    assert (lien.casse, lien.echecs_consecutifs, lien.premier_echec, lien.erreur) == (False, 0, None, "")


def test_command(serveur, prive_autorise, capsys):
    OrganismeFactory(site_web=f"{serveur}/ok")
    call_command("verifier_liens", "--threads", "2", "--timeout", "1")
    assert "1 lien(s) vérifié(s)" in capsys.readouterr().out


def test_the_of_page_lists_its_broken_links_only(client, serveur):
    organisme = OrganismeFactory(site_web="https://site-casse.example.org")
    lecteur = ContactFactory(organisme=organisme, lecteur=True)
    formation = FormationFactory(organisme=organisme, url="https://formation-cassee.example.org")
    autre = OrganismeFactory()
    commun = {"statut_http": 404, "erreur": "la page répond une erreur 404 (page introuvable)", "casse": True}
    LienVerifie.objects.create(
        url=organisme.site_web, organisme=organisme, objet="organisme", objet_id=organisme.pk,
        premier_echec=NUIT_1, derniere_verification=NUIT_2, echecs_consecutifs=2, **commun,
    )  # fmt: skip
    LienVerifie.objects.create(
        url=formation.url, organisme=organisme, objet="formation", objet_id=formation.pk,
        premier_echec=NUIT_1, derniere_verification=NUIT_2, echecs_consecutifs=2, **commun,
    )  # fmt: skip
    LienVerifie.objects.create(
        url="https://autre-of.example.org", organisme=autre, objet="organisme", objet_id=autre.pk, **commun
    )
    LienVerifie.objects.create(
        url="https://une-nuit.example.org", organisme=organisme, objet="organisme", objet_id=organisme.pk,
        statut_http=500, erreur="une seule nuit", echecs_consecutifs=1,
    )  # fmt: skip
    client.force_login(lecteur.user)
    response = client.get(reverse("diffusion:liens_en_erreur"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "site-casse.example.org" in html and "formation-cassee.example.org" in html
    assert "page introuvable" in html and "02/11/2026" in html
    assert reverse("offre:formation_detail", args=[formation.pk]) in html
    assert "autre-of.example.org" not in html and "une-nuit.example.org" not in html
    assert liens.nombre_liens_en_erreur(organisme) == 2
