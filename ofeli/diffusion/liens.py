"""The link checker ("Erreur liens site internet" on the OF's tableau de bord).

Each night (`verifier_liens`, called by the Huey periodic task and by `manage.py verifier_liens`) every website
URL of the offer is fetched: the organismes' `site_web` and the `url` of formations, actions and sessions not
archived. The fetches run in a bounded thread pool (no database access in the threads); the results are written
afterwards, in the calling thread.

- Only http and https. A host that resolves to a private, loopback, link-local or reserved address is refused
  (no request is sent) unless the setting LIENS_ADRESSES_PRIVEES_AUTORISEES is true (tests, with a local server).
  The connection is made to the address that was checked, so a second DNS answer cannot redirect it.
- A timeout per request; redirects are followed up to MAX_REDIRECTIONS, each hop checked the same way.
- A link is counted broken ("lien en erreur") only after failing on two different nights: one failure records
  the night and the error; a second failure on a later night sets `casse`; any success clears it.
- Each result is a LienVerifie row (url, organisme, object, last HTTP status, French error, first failure
  night, consecutive failing nights, broken flag). Rows of URLs no longer in the offer are removed.

Read by the tableau de bord through `nombre_liens_en_erreur(organisme)` and by the OF's page through
`liens_en_erreur(organisme)`.
"""

import concurrent.futures
import datetime
import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ofeli.offre.models import Action, Etat, Formation, Session
from ofeli.organismes.models import Organisme

from .models_imports import LienVerifie

TIMEOUT = 10  # seconds per request
MAX_REDIRECTIONS = 5
MAX_THREADS = 8
USER_AGENT = "OFeli-verificateur-de-liens/1.0"
NUITS_AVANT_ERREUR = 2


# --- one URL ------------------------------------------------------------------------------------------------


class LienRefuse(Exception):
    """A URL the checker will not fetch; the message is French."""


def _adresses_privees_autorisees() -> bool:
    return bool(getattr(settings, "LIENS_ADRESSES_PRIVEES_AUTORISEES", False))


def _adresse_sure(host: str, port: int) -> str:
    """The IP address to connect to; LienRefuse for an unknown host or a private address."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise LienRefuse(f"nom de domaine introuvable ({host})") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not ip.is_global and not _adresses_privees_autorisees():
            raise LienRefuse("adresse privée ou locale : lien non vérifiable depuis internet")
    return infos[0][4][0]


class _Connexion(http.client.HTTPConnection):
    """Connects to a given (checked) IP address while speaking to `host`."""

    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self):
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _ConnexionTLS(http.client.HTTPSConnection):
    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _requete(url: str, timeout: float) -> tuple[int, str]:
    """(status, Location) of a GET of `url`; the body is not read."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise LienRefuse("seuls les liens http et https sont vérifiés")
    if not parts.hostname:
        raise LienRefuse("adresse sans nom de domaine")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ip = _adresse_sure(parts.hostname, port)
    classe = _ConnexionTLS if parts.scheme == "https" else _Connexion
    connexion = classe(parts.hostname, port, ip, timeout)
    try:
        chemin = parts.path or "/"
        if parts.query:
            chemin += "?" + parts.query
        connexion.request("GET", chemin, headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*"})
        reponse = connexion.getresponse()
        return reponse.status, reponse.getheader("Location") or ""
    finally:
        connexion.close()


def verifier_url(
    url: str, *, timeout: float = TIMEOUT, max_redirections: int = MAX_REDIRECTIONS
) -> tuple[int | None, str]:
    """(last HTTP status or None, French error or "") of one URL; "" means the link works."""
    courant = url
    try:
        for _ in range(max_redirections + 1):
            status, location = _requete(courant, timeout)
            if status in (301, 302, 303, 307, 308) and location:
                courant = urljoin(courant, location)
                continue
            if status >= 400:
                return status, f"la page répond une erreur {status}" + (
                    " (page introuvable)" if status in (404, 410) else " (erreur du serveur)" if status >= 500 else ""
                )
            return status, ""
        return status, f"trop de redirections (plus de {max_redirections})"
    except LienRefuse as exc:
        return None, str(exc)
    except TimeoutError:
        return None, f"le site ne répond pas (délai de {timeout:g} secondes dépassé)"
    except ssl.SSLError as exc:
        return None, f"certificat ou connexion sécurisée invalide ({exc.reason or exc})"
    except ConnectionRefusedError:
        return None, "connexion refusée par le serveur"
    except (OSError, http.client.HTTPException) as exc:
        return None, f"site injoignable ({exc.__class__.__name__})"


# --- the nightly run -----------------------------------------------------------------------------------------


def liens_a_verifier() -> Iterator[tuple[str, int, int, str]]:
    """(objet, objet_id, organisme_id, url) of every website URL of the offer not archived."""
    for pk, url in Organisme.objects.filter(actif=True).exclude(site_web="").values_list("pk", "site_web"):
        yield LienVerifie.Objet.ORGANISME, pk, pk, url
    formations = Formation.objects.exclude(etat=Etat.ARCHIVE_OF).exclude(url="")
    for pk, organisme_id, url in formations.values_list("pk", "organisme_id", "url"):
        yield LienVerifie.Objet.FORMATION, pk, organisme_id, url
    actions = Action.objects.exclude(formation__etat=Etat.ARCHIVE_OF).exclude(url="")
    for pk, organisme_id, url in actions.values_list("pk", "formation__organisme_id", "url"):
        yield LienVerifie.Objet.ACTION, pk, organisme_id, url
    sessions = Session.objects.exclude(etat=Etat.ARCHIVE_OF).exclude(url="")
    for pk, organisme_id, url in sessions.values_list("pk", "action__formation__organisme_id", "url"):
        yield LienVerifie.Objet.SESSION, pk, organisme_id, url


def verifier_liens(
    *, nuit: datetime.date | None = None, max_threads: int = MAX_THREADS, timeout: float = TIMEOUT
) -> dict[str, int]:
    """Checks every link once (each distinct URL fetched once) and records the results; returns counts."""
    nuit = nuit or timezone.localdate()
    liens = list(liens_a_verifier())
    urls = sorted({url for *_, url in liens})
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, max_threads)) as pool:
        resultats = dict(zip(urls, pool.map(lambda u: verifier_url(u, timeout=timeout), urls), strict=True))
    return liens_enregistrer(liens=liens, resultats=resultats, nuit=nuit)


@transaction.atomic
def liens_enregistrer(*, liens, resultats: dict[str, tuple[int | None, str]], nuit: datetime.date) -> dict[str, int]:
    """Writes the night's results; a link becomes broken on its second failing night."""
    existants = {(lv.objet, lv.objet_id, lv.url): lv for lv in LienVerifie.objects.select_for_update()}
    gardes = set()
    a_creer, a_modifier = [], []
    for objet, objet_id, organisme_id, url in liens:
        cle = (objet, objet_id, url)
        if cle in gardes:
            continue
        gardes.add(cle)
        status, erreur = resultats[url]
        lien = existants.get(cle) or LienVerifie(url=url, objet=objet, objet_id=objet_id, organisme_id=organisme_id)
        nouvelle_nuit = lien.derniere_verification != nuit
        lien.organisme_id = organisme_id
        lien.statut_http = status
        lien.erreur = erreur[:300]
        if erreur:
            if nouvelle_nuit or not lien.echecs_consecutifs:
                lien.echecs_consecutifs += 1
            lien.premier_echec = lien.premier_echec or nuit
        else:
            lien.echecs_consecutifs = 0
            lien.premier_echec = None
        lien.casse = lien.echecs_consecutifs >= NUITS_AVANT_ERREUR
        lien.derniere_verification = nuit
        (a_modifier if lien.pk else a_creer).append(lien)
    champs = [
        "organisme",
        "statut_http",
        "erreur",
        "echecs_consecutifs",
        "premier_echec",
        "casse",
        "derniere_verification",
    ]
    LienVerifie.objects.bulk_create(a_creer, batch_size=500)
    LienVerifie.objects.bulk_update(a_modifier, champs, batch_size=500)
    obsoletes = [lv.pk for cle, lv in existants.items() if cle not in gardes]
    LienVerifie.objects.filter(pk__in=obsoletes).delete()
    return {
        "verifies": len(gardes),
        "en_echec": sum(1 for lv in a_creer + a_modifier if lv.erreur),
        "en_erreur": sum(1 for lv in a_creer + a_modifier if lv.casse),
        "retires": len(obsoletes),
    }


# --- readers -------------------------------------------------------------------------------------------------


def liens_en_erreur(organisme):
    """The organisme's broken links (failed on two different nights), for its page."""
    return LienVerifie.objects.filter(organisme=organisme, casse=True).order_by("objet", "objet_id", "url")


def nombre_liens_en_erreur(organisme) -> int:
    """The tableau de bord's "Erreur liens site internet" counter."""
    return LienVerifie.objects.filter(organisme=organisme, casse=True).count()
