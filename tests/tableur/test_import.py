"""Issue 10: an OF imports its offer from a spreadsheet (preview of the errors, drafts, nothing twice)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ofeli.offre.models import Etat, Formation, Session
from ofeli.tableur import services
from ofeli.tableur.models import ImportTableur

pytestmark = pytest.mark.django_db


def deposer(organisme, user, data: bytes, nom="offre.xlsx"):
    return services.import_deposer(organisme=organisme, user=user, fichier=SimpleUploadedFile(nom, data))


def analyser_et_importer(organisme, user, data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        imp = deposer(organisme, user, data)
    imp.refresh_from_db()
    assert imp.statut == ImportTableur.Statut.VERIFIE, imp.message
    with django_capture_on_commit_callbacks(execute=True):
        services.import_lancer(import_tableur=imp, user=user)
    imp.refresh_from_db()
    return imp


def _erreurs(imp):
    return {(e.feuille, e.ligne, e.colonne): e.motif for e in imp.erreurs.all()}


def test_preview_shows_only_the_rows_in_error_with_the_reason(
    organisme, saisisseur, referentiels, lieux, fichier_mixte, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        imp = deposer(organisme, saisisseur.user, fichier_mixte)
    imp.refresh_from_db()
    assert imp.statut == ImportTableur.Statut.VERIFIE
    assert not Formation.objects.exists()  # the preview writes nothing
    erreurs = _erreurs(imp)
    assert "code Formacode inconnu : 99999" in erreurs[("Formations", 3, "Formacodes")]
    assert erreurs[("Formations", 4, "Objectif")] == "cellule obligatoire : elle est vide"
    assert "« 31/02/2027 » n'est pas une date" in erreurs[("Actions et sessions", 4, "Date de début")]
    assert "hors région" in erreurs[("Actions et sessions", 5, "Lieux de formation")]
    assert "« douze » n'est pas un nombre entier" in erreurs[("Actions et sessions", 6, "Places restantes")]
    assert "(feuille « Formations », ligne 3) est en erreur" in erreurs[("Actions et sessions", 7, "")]
    assert erreurs[("Actions et sessions", 8, "Rythme")] == "cellule obligatoire : elle est vide"
    lignes_en_erreur = {(f, ligne) for f, ligne, _ in erreurs}
    assert ("Formations", 2) not in lignes_en_erreur and ("Actions et sessions", 2) not in lignes_en_erreur
    assert (imp.lignes_valides, imp.lignes_en_erreur) == (5, 7)


def test_valid_rows_become_drafts_and_the_same_file_twice_creates_nothing(
    organisme, saisisseur, referentiels, lieux, fichier_mixte, django_capture_on_commit_callbacks
):
    imp = analyser_et_importer(organisme, saisisseur.user, fichier_mixte, django_capture_on_commit_callbacks)
    assert imp.statut == ImportTableur.Statut.TERMINE
    assert (imp.formations_creees, imp.sessions_creees, imp.refusees) == (2, 3, 0)
    formations = Formation.objects.filter(organisme=organisme).order_by("intitule")
    assert [f.intitule for f in formations] == ["Soudage F1", "Soudage TIG"]
    assert all(f.etat == Etat.BROUILLON and f.soumise_at is None for f in formations)
    f1 = formations[0]
    assert list(f1.formacodes.values_list("code", flat=True)) == ["22454"]
    sessions = Session.objects.filter(action__formation=f1).order_by("debut")
    assert len(sessions) == 2 and sessions[0].etat == Etat.BROUILLON
    assert sessions[0].action.lieux.get() == lieux["bourges"]
    assert sessions[0].action.public_vise == ["83056"]

    again = analyser_et_importer(organisme, saisisseur.user, fichier_mixte, django_capture_on_commit_callbacks)
    assert (again.formations_creees, again.sessions_creees, again.formations_modifiees, again.sessions_modifiees) == (
        0,
        0,
        0,
        0,
    )
    assert again.inchangees == 5
    assert Formation.objects.count() == 2 and Session.objects.count() == 3


def test_a_file_that_is_not_xlsx_is_refused_in_french(organisme, saisisseur):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="n'est pas un classeur Excel"):
        deposer(organisme, saisisseur.user, b"Intitule;Debut\nSoudage;01/02/2027\n", "offre.csv")
    pdf = b"%PDF-1.4\n" + b"0" * 100
    with pytest.raises(ValidationError, match="n'est pas un classeur Excel"):
        deposer(organisme, saisisseur.user, pdf, "offre.xlsx")
    assert not ImportTableur.objects.exists()
