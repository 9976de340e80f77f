import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from lxml import etree

from ofeli.lheo import NS_23
from ofeli.lheo.validate import traduire, valider_lheo
from tests.factories import SessionFactory
from tests.lheo.conftest import exporter

DATA = Path(__file__).parent / "data"


def _casser(data: bytes, *, intitule_vide_pour=(), supprimer=()) -> bytes:
    """Breaks an export: empties intitule-formation of some formations, removes some elements."""
    root = etree.fromstring(data)
    ns = {"l": NS_23}
    formations = root.findall("l:offres/l:formation", ns)
    for index in intitule_vide_pour:
        formations[index].find("l:intitule-formation", ns).text = ""
    for index, name in supprimer:
        element = formations[index].find(f"l:{name}", ns)
        element.getparent().remove(element)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


@pytest.mark.django_db
def test_every_error_is_listed_with_its_line_in_french(tmp_path):
    for _ in range(4):
        SessionFactory()
    data = _casser(exporter(), intitule_vide_pour=(0, 2), supprimer=[(3, "certifiante")])
    erreurs = valider_lheo(io.BytesIO(data))
    assert len(erreurs) == 3
    lignes = data.decode().splitlines()
    for erreur in erreurs[:2]:
        assert "intitule-formation" in erreur.message and "trop courte" in erreur.message
        assert "<intitule-formation" in lignes[erreur.ligne - 1]
    assert "certifiante" in erreurs[2].message and "attendu" in erreurs[2].message
    # the same through the command
    path = tmp_path / "casse.xml"
    path.write_bytes(data)
    out = io.StringIO()
    with pytest.raises(CommandError, match="3 erreur"):
        call_command("validate_lheo", str(path), stdout=out)
    printed = out.getvalue().splitlines()
    assert len(printed) == 3
    assert printed[0].startswith(f"{path}:{erreurs[0].ligne}: élément « intitule-formation »")


@pytest.mark.django_db
def test_a_valid_file_passes_the_command(tmp_path):
    SessionFactory()
    path = tmp_path / "ok.xml"
    path.write_bytes(exporter())
    out = io.StringIO()
    call_command("validate_lheo", str(path), stdout=out)
    assert "valide" in out.getvalue()


def test_the_22_sample_is_valid_with_the_22_schema_and_as_23():
    assert valider_lheo(str(DATA / "exemple-bts-onisep-2.2.xml")) == []
    converted = (DATA / "exemple-bts-onisep-2.2.xml").read_bytes().replace(b"http://www.lheo.org/2.2", NS_23.encode())
    assert valider_lheo(io.BytesIO(converted)) == []


def test_unknown_namespace_not_xml_doctype_and_empty_offer():
    (erreur,) = valider_lheo(io.BytesIO(b"<lheo xmlns='urn:autre'><offres/></lheo>"))
    assert "espace de noms" in erreur.message
    (erreur,) = valider_lheo(io.BytesIO(b"<lheo>\n<offres>\n</lheo>"))
    assert "bien formé" in erreur.message and erreur.ligne == 3
    (erreur,) = valider_lheo(io.BytesIO(b'<!DOCTYPE lheo SYSTEM "http://x/y.dtd"><lheo/>'))
    assert "DOCTYPE" in erreur.message
    (erreur,) = valider_lheo(io.BytesIO(f'<lheo xmlns="{NS_23}"><offres/></lheo>'.encode()))
    assert "offres" in erreur.message and "formation" in erreur.message


def test_missing_file_is_a_clear_command_error(tmp_path):
    with pytest.raises(CommandError):
        call_command("validate_lheo", str(tmp_path / "absent.xml"), stdout=io.StringIO())


def test_messages_are_translated_and_unknown_ones_kept():
    assert (
        traduire(
            "Element '{http://lheo.gouv.fr/2.3}certifiante': [facet 'enumeration'] The value '2' is not an element "
            "of the set {'0', '1'}."
        )
        == "élément « certifiante » : la valeur « 2 » n'est pas un code autorisé (codes possibles : {'0', '1'})"
    )
    assert traduire("Something new.") == "non conforme au schéma LHEO : Something new."
