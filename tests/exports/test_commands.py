import io

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from lxml import etree

from ofeli.lheo import NS_23
from ofeli.lheo.validate import valider_lheo
from ofeli.offre.models import Etat
from tests.factories import FormationFactory, OrganismeFactory, SessionFactory

pytestmark = pytest.mark.django_db
NS = {"l": NS_23}


def _numeros(path):
    root = etree.parse(str(path)).getroot()
    return sorted(f.get("numero") for f in root.iterfind("l:offres/l:formation", NS))


@pytest.fixture
def offre(organisme):
    autre = OrganismeFactory()
    return {
        "validee": SessionFactory(
            action__formation=FormationFactory(organisme=organisme, etat=Etat.VALIDEE, numero="1F")
        ).action.formation,
        "brouillon": SessionFactory(
            action__formation=FormationFactory(organisme=organisme, etat=Etat.BROUILLON, numero="2F")
        ).action.formation,
        "archive": SessionFactory(
            action__formation=FormationFactory(organisme=organisme, etat=Etat.ARCHIVE_OF, numero="3F"),
            debut="2019-01-07",
            fin="2019-02-01",
        ).action.formation,
        "autre": SessionFactory(
            action__formation=FormationFactory(organisme=autre, etat=Etat.VALIDEE, numero="4F")
        ).action.formation,
    }


def test_export_lheo_without_filter_exports_everything_and_validates(offre, tmp_path):
    path = tmp_path / "offre.xml"
    out = io.StringIO()
    call_command("export_lheo", "--output", str(path), stdout=out)
    assert _numeros(path) == ["1F", "2F", "3F", "4F"]
    assert valider_lheo(str(path)) == []
    assert "4 formation(s), 4 action(s), 4 session(s)" in out.getvalue()
    assert "conforme" in out.getvalue()
    assert [p.name for p in tmp_path.iterdir()] == ["offre.xml"]  # no temporary file left


def test_export_lheo_filters_by_organisme_and_etats(offre, organisme, tmp_path):
    path = tmp_path / "of.xml"
    call_command(
        "export_lheo",
        "--organisme",
        organisme.nda,
        "--etat",
        "validee",
        "--etat",
        "archive_of",
        "--output",
        str(path),
        stdout=io.StringIO(),
    )
    assert _numeros(path) == ["1F", "3F"]


def test_export_lheo_errors_are_clear_and_leave_the_previous_file(offre, tmp_path):
    path = tmp_path / "offre.xml"
    path.write_text("ancien")
    with pytest.raises(CommandError, match="Aucun organisme"):
        call_command("export_lheo", "--organisme", "99999999999", "--output", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="Aucune formation"):
        call_command("export_lheo", "--etat", "en_attente", "--output", str(path), stdout=io.StringIO())
    assert path.read_text() == "ancien"
    assert [p.name for p in tmp_path.iterdir()] == ["offre.xml"]
    with pytest.raises(CommandError, match="n'existe pas"):
        call_command("export_lheo", "--output", str(tmp_path / "absent" / "x.xml"), stdout=io.StringIO())


def test_export_lheo_no_validate(offre, tmp_path):
    path = tmp_path / "offre.xml"
    out = io.StringIO()
    call_command("export_lheo", "--no-validate", "--output", str(path), stdout=out)
    assert "conforme" not in out.getvalue()
    assert _numeros(path) == ["1F", "2F", "3F", "4F"]


def test_export_excel_with_the_same_filters(offre, organisme, tmp_path):
    path = tmp_path / "of.xlsx"
    call_command("export_excel", "--organisme", organisme.nda, "--output", str(path), stdout=io.StringIO())
    workbook = openpyxl.load_workbook(path)
    numeros = sorted(row[1] for row in workbook["Formations"].iter_rows(min_row=2, values_only=True))  # Numéro Carif
    assert numeros == ["1F", "2F", "3F"]
    assert workbook["Actions et sessions"].max_row == 4
