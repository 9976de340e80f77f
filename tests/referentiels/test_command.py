import pytest
from django.core.management import CommandError, call_command

from ofeli.referentiels.models import NSF, Certification, CertifInfo, Commune, Formacode, Rome

pytestmark = pytest.mark.django_db


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("load_referentiels", *args, stdout=out)
    return out.getvalue()


def test_default_run_loads_shipped_referentials_and_says_what_it_left_alone():
    out = run()
    assert Commune.objects.exists() and NSF.objects.exists() and Rome.objects.exists() and CertifInfo.objects.exists()
    assert not Formacode.objects.exists()
    assert not Certification.objects.exists()
    assert "Formacode : aucun fichier indiqué (--formacode), référentiel inchangé." in out
    assert "RNCP/RS : aucun fichier indiqué" in out
    assert "Communes : " in out and " créé(s)" in out


def test_rerun_is_idempotent_and_prints_counts():
    run("--samples")
    counts = [m.objects.count() for m in (Commune, NSF, Rome, CertifInfo, Formacode, Certification)]
    out = run("--samples")
    assert [m.objects.count() for m in (Commune, NSF, Rome, CertifInfo, Formacode, Certification)] == counts
    assert " 0 créé(s), 0 mis à jour" in out
    assert "créé(s), 0 mis à jour, 0 inchangé" not in out


def test_only_and_operator_files(tmp_path):
    formacode = tmp_path / "fc.csv"
    formacode.write_text("code;libelle\n22454;Soudage\n", encoding="utf-8")
    fiches = tmp_path / "export_fiches_CSV_Standard_2026_11_01.csv"
    fiches.write_text("Numero_Fiche;Intitule;Nomenclature_Europe_Niveau;Actif\nRS5192;SST;;ACTIVE\n", encoding="utf-8")
    out = run("--only", "formacode,rncp", "--formacode", str(formacode), "--rncp", str(fiches))
    assert list(Formacode.objects.values_list("code", flat=True)) == ["22454"]
    assert list(Certification.objects.values_list("code", flat=True)) == ["RS5192"]
    assert not Commune.objects.exists()
    assert "Formacode : 1 dans le fichier, 1 créé(s)" in out


def test_only_rejects_unknown_names_and_missing_files():
    with pytest.raises(CommandError, match="Référentiel inconnu : formacodes"):
        run("--only", "formacodes")
    with pytest.raises(CommandError, match="indiquez le fichier avec --formacode"):
        run("--only", "formacode")


def test_malformed_file_stops_with_french_error_and_keeps_previous_data(tmp_path):
    run("--only", "formacode", "--samples")
    before = Formacode.objects.count()
    bad = tmp_path / "fc.csv"
    bad.write_text("code;libelle\n22454;Soudage\nabc;Rien\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run("--only", "formacode", "--formacode", str(bad))
    assert str(exc.value) == (
        "fc.csv, ligne 3 : code Formacode invalide : « abc ». "
        "Les données déjà chargées de ce référentiel sont inchangées."
    )
    assert Formacode.objects.count() == before
    assert Formacode.objects.get(code="22454").libelle == "Soudage"
