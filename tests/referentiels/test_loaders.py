import pytest

from ofeli.referentiels import loaders
from ofeli.referentiels.models import (
    NSF,
    BlocCompetences,
    Certification,
    CertifInfo,
    Commune,
    Departement,
    Formacode,
    Region,
    Rome,
)

pytestmark = pytest.mark.django_db


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_regions_and_all_departements_are_loaded():
    loaders.regions_charger()
    assert Region.objects.count() == 26
    assert Departement.objects.count() == 109
    assert Departement.objects.get(code="45").region.nom == "Centre-Val de Loire"
    assert Departement.objects.get(code="2A").nom == "Corse-du-Sud"


def test_communes_of_the_configured_region():
    bilan = loaders.communes_charger()
    assert bilan.crees == Commune.objects.count() > 1800
    orleans = Commune.objects.get(code_insee="45234")
    assert orleans.nom == "Orléans"
    assert orleans.codes_postaux == ["45000", "45100"]
    assert orleans.actuelle
    assert orleans.recherche == "orleans 45234 45000 45100"
    # A commune déléguée sharing the code of its commune nouvelle is not a row of its own.
    assert Commune.objects.get(code_insee="28015").nom == "Auneau-Bleury-Saint-Symphorien"
    # A commune déléguée with a code of its own is kept, with the postal codes of its chef-lieu.
    allaines = Commune.objects.get(code_insee="28002")
    assert not allaines.actuelle
    assert allaines.codes_postaux == Commune.objects.get(code_insee="28199").codes_postaux


def test_communes_file_follows_the_region_setting(settings, tmp_path):
    region_file = tmp_path / "ile-de-france.json"
    region_file.write_text(
        '{"code": "11", "nom": "Île-de-France", "departements": ["75"], "site_public": "x", "carif_prefix": "11",'
        ' "gip": {"nom": "g", "nom_court": "g", "equipe": "e", "email": "e@example.org", "telephones": []}}',
        encoding="utf-8",
    )
    settings.OFELI_REGION_FILE = str(region_file)
    assert loaders.communes_file_for_region().name == "communes-ile-de-france.csv"
    with pytest.raises(loaders.ErreurFichier, match="aucun fichier de communes pour la région Île-de-France"):
        loaders.communes_charger()


def test_nsf_rome_certifinfo():
    assert loaders.nsf_charger().crees == 93
    assert loaders.rome_charger().crees == 532
    loaders.certifinfo_charger()
    assert NSF.objects.get(code="254").libelle
    assert Rome.objects.get(code="F1604").libelle.startswith("Montage")
    # Types and levels are not certifications; the code suffix of the label is removed.
    assert not CertifInfo.objects.filter(code__startswith="type").exists()
    assert CertifInfo.objects.get(code="100005").libelle == "Management opérationnel Agile"


def test_formacode_sample_has_the_public_vise_codes():
    loaders.formacode_charger(path=loaders.FORMACODE_SAMPLE)
    assert Formacode.objects.count() >= 60
    for code in ["83056", "80006", "82044", "81050", "81024", "81020"]:
        assert Formacode.objects.filter(code=code).exists(), code


def test_certifications_and_blocs_from_france_competences_format():
    bilans = loaders.certifications_charger(paths=[loaders.RNCP_SAMPLE], blocs_path=loaders.RNCP_BLOCS_SAMPLE)
    assert [b.referentiel for b in bilans] == ["Certifications RNCP/RS", "Blocs de compétences"]
    soudeur = Certification.objects.get(code="RNCP34078")
    assert (soudeur.type, soudeur.niveau, soudeur.actif) == ("RNCP", "NIV3", True)
    assert Certification.objects.get(code="RS5192").type == "RS"
    assert not Certification.objects.get(code="RNCP31115").actif
    assert list(soudeur.blocs.values_list("code", flat=True)) == ["RNCP34078BC01", "RNCP34078BC02"]
    assert Certification.objects.count() >= 30


def test_second_run_changes_nothing_and_a_changed_label_is_updated(tmp_path):
    path = write(tmp_path, "formacode.csv", "code;libelle\n22454;Soudage\n31054;Informatique\n")
    assert (loaders.formacode_charger(path=path).crees, Formacode.objects.count()) == (2, 2)
    again = loaders.formacode_charger(path=path)
    assert (again.crees, again.modifies, again.inchanges) == (0, 0, 2)
    write(tmp_path, "formacode.csv", "code,libelle,version\n22454,Soudage à l'arc,V14\n31054,Informatique,V14\n")
    changed = loaders.formacode_charger(path=path)
    assert (changed.crees, changed.modifies, changed.inchanges) == (0, 1, 1)
    assert Formacode.objects.get(code="22454").libelle == "Soudage à l'arc"
    assert Formacode.objects.get(code="22454").recherche == "22454 soudage a l arc"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "code;libelle\n22454;Soudage\n2245X;Mauvais\n",
            "formacode.csv, ligne 3 : code Formacode invalide : « 2245X »",
        ),
        ("code;libelle\n22454;Soudage\n31054;\n", "formacode.csv, ligne 3 : libellé vide"),
        ("code;label\n22454;Soudage\n", "ligne 1 : colonne(s) manquante(s) dans l'en-tête : libelle"),
        ("code;libelle\n22454;Soudage;en trop\n", "ligne 2 : 3 colonne(s) au lieu des 2 de l'en-tête"),
        ("", "ligne 1 : le fichier est vide"),
        ("code;libelle\n", "aucune ligne de données"),
    ],
)
def test_malformed_formacode_file_is_refused_with_its_line_and_keeps_previous_data(tmp_path, content, message):
    good = write(tmp_path, "ok.csv", "code;libelle\n15234;Anglais\n")
    loaders.formacode_charger(path=good)
    bad = write(tmp_path, "formacode.csv", content)
    with pytest.raises(loaders.ErreurFichier) as exc:
        loaders.formacode_charger(path=bad)
    assert message in str(exc.value)
    assert list(Formacode.objects.values_list("code", "libelle")) == [("15234", "Anglais")]


def test_file_not_in_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("code;libelle\n22454;Soudage à l'arc\n".encode("latin-1"))
    with pytest.raises(loaders.ErreurFichier, match="n'est pas encodé en UTF-8"):
        loaders.formacode_charger(path=path)
    assert not Formacode.objects.exists()


def test_missing_file():
    with pytest.raises(loaders.ErreurFichier, match="fichier introuvable"):
        loaders.formacode_charger(path="/nonexistent/formacode.csv")


def test_malformed_rncp_files(tmp_path):
    header = "Id_Fiche;Numero_Fiche;Intitule;Nomenclature_Europe_Niveau;Actif\n"
    bad_actif = write(tmp_path, "fiches.csv", header + "1;RNCP1;Titre;NIV3;ACTIVE\n2;RNCP2;Autre;NIV4;PEUT-ETRE\n")
    with pytest.raises(loaders.ErreurFichier, match="ligne 3 : Actif invalide"):
        loaders.certifications_charger(paths=[bad_actif])
    bad_numero = write(tmp_path, "fiches.csv", header + "1;CPF12;Titre;NIV3;ACTIVE\n")
    with pytest.raises(loaders.ErreurFichier, match="ligne 2 : Numero_Fiche invalide"):
        loaders.certifications_charger(paths=[bad_numero])
    good = write(tmp_path, "fiches.csv", header + "1;RNCP1;Titre;NIV3;ACTIVE\n")
    orphan = write(
        tmp_path,
        "blocs.csv",
        "Numero_Fiche;Bloc_Competences_Code;Bloc_Competences_Libelle\nRNCP1;RNCP1BC01;Bloc\nRNCP9;RNCP9BC01;Bloc\n",
    )
    with pytest.raises(loaders.ErreurFichier, match="blocs.csv, ligne 3 : certification inconnue « RNCP9 »"):
        loaders.certifications_charger(paths=[good], blocs_path=orphan)
    # Nothing was written: the fiches are checked with their blocs before the transaction.
    assert not Certification.objects.exists()
    assert not BlocCompetences.objects.exists()


def test_blocs_may_be_loaded_alone_for_known_certifications(tmp_path):
    loaders.certifications_charger(paths=[loaders.RNCP_SAMPLE])
    blocs = write(
        tmp_path,
        "blocs.csv",
        "Numero_Fiche;Bloc_Competences_Code;Bloc_Competences_Libelle\nRNCP34078;RNCP34078BC03;Souder des tubes\n",
    )
    [bilan] = loaders.certifications_charger(paths=[], blocs_path=blocs)
    assert bilan.crees == 1
    assert BlocCompetences.objects.get(code="RNCP34078BC03").certification.code == "RNCP34078"


def test_malformed_json(tmp_path):
    path = write(tmp_path, "certifinfo.json", '{"100": {"text": "A"},\n"101": }')
    with pytest.raises(loaders.ErreurFichier, match="certifinfo.json, ligne 2 : JSON illisible"):
        loaders.certifinfo_charger(path=path)
