"""Imports of offer entered elsewhere (ofeli.diffusion.imports and the command import_offre)."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ofeli.diffusion import imports
from ofeli.diffusion.models_imports import ImportRejet, ImportRun
from ofeli.offre.models import Action, Dispositif, Etat, Formation, Session, Source
from ofeli.organismes.models import Organisme
from ofeli.recherche.models import DocumentRecherche
from tests.factories import OrganismeFactory, UserFactory, siret_valide

DATA = Path(__file__).parent / "data"
LHEO_22 = Path(__file__).parents[1] / "lheo" / "data" / "exemple-bts-onisep-2.2.xml"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stockage_prive(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }


SESSION = """<session numero="{numero}">
<periode><debut>{debut}</debut><fin>{fin}</fin></periode>
<adresse-inscription><adresse><ligne>1 place du Martroi</ligne><codepostal>45000</codepostal>
<ville>Orléans</ville></adresse></adresse-inscription>
</session>"""

FORMATION = """<formation numero="{numero}">
<domaine-formation><code-FORMACODE ref="V14">23054</code-FORMACODE></domaine-formation>
{intitule}
<objectif-formation>Objectif de {numero}.</objectif-formation>
<resultats-attendus>Résultats.</resultats-attendus>
<contenu-formation>Contenu.</contenu-formation>
<certifiante>0</certifiante>
<contact-formation><coordonnees><nom>Accueil</nom></coordonnees></contact-formation>
<parcours-de-formation>1</parcours-de-formation>
<code-niveau-entree>0</code-niveau-entree>
<action numero="{numero}_A">
<rythme-formation>Temps plein</rythme-formation>
<code-public-vise ref="V14">80056</code-public-vise>
<niveau-entree-obligatoire>0</niveau-entree-obligatoire>
<modalites-alternance>Sans objet</modalites-alternance>
<modalites-enseignement>0</modalites-enseignement>
<conditions-specifiques>Aucune</conditions-specifiques>
<prise-en-charge-frais-possible>1</prise-en-charge-frais-possible>
<lieu-de-formation><coordonnees><adresse><ligne>1 place du Martroi</ligne><codepostal>45000</codepostal>
<ville>Orléans</ville></adresse></coordonnees></lieu-de-formation>
<modalites-entrees-sorties>0</modalites-entrees-sorties>
{sessions}
</action>
<organisme-formation-responsable numero="OF_{siret}">
<numero-activite>24450000145</numero-activite>
<SIRET-organisme-formation><SIRET>{siret}</SIRET></SIRET-organisme-formation>
<nom-organisme>Organisme {siret}</nom-organisme>
<raison-sociale>ORGANISME {siret}</raison-sociale>
<coordonnees-organisme><coordonnees><adresse><ligne>1 place du Martroi</ligne><codepostal>45000</codepostal>
<ville>Orléans</ville></adresse></coordonnees></coordonnees-organisme>
<contact-organisme><coordonnees><nom>Direction</nom></coordonnees></contact-organisme>
</organisme-formation-responsable>
</formation>"""


def formation_xml(numero, *, siret=None, sessions=None, intitule=None):
    sessions = [(f"{numero}_S1", "20261102", "20270305")] if sessions is None else sessions
    return FORMATION.format(
        numero=numero,
        siret=siret or siret_valide(1),
        intitule=""
        if intitule == ""
        else f"<intitule-formation>{intitule or 'Formation ' + numero}</intitule-formation>",
        sessions="\n".join(SESSION.format(numero=n, debut=d, fin=f) for n, d, f in sessions),
    )


def fichier_lheo(tmp_path, *formations, nom="flux.xml", namespace="http://lheo.gouv.fr/2.3") -> Path:
    path = tmp_path / nom
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="{namespace}">\n<offres>\n'
        + "\n".join(formations)
        + "\n</offres>\n</lheo>\n",
        encoding="utf-8",
    )
    return path


def importer(path, source="eos", **kwargs):
    run = imports.import_creer(source=source, chemin=str(path), complet=kwargs.pop("complet", False), **kwargs)
    return imports.import_executer(run=run)


def history_count():
    return Formation.history.count() + Action.history.count() + Session.history.count() + Organisme.history.count()


def test_command_imports_a_23_file_and_reimporting_it_changes_nothing(capsys):
    call_command("import_offre", str(DATA / "eos-2.3.xml"), "--source", "eos")
    formation = Formation.objects.get()
    assert (formation.source, formation.source_ref, formation.etat) == (Source.REGION, "EOS_F1", Etat.EN_ATTENTE)
    assert formation.intitule == "Soudeur TIG"
    assert formation.url == "https://soudure.example.fr/tig"
    organisme = formation.organisme
    assert (organisme.siret, organisme.nda, organisme.source) == (
        "73282932000074",
        "24450000145",
        Organisme.Source.IMPORT,
    )
    assert organisme.site_web == "https://soudure.example.fr"
    assert not organisme.contacts.exists()
    action = formation.actions.get()
    assert (action.source_ref, action.dispositif, action.nombre_heures_total) == ("EOS_A1", Dispositif.REGION, 400)
    assert action.lieux.get().ville == "Orléans"
    sessions = Session.objects.filter(action=action).order_by("debut")
    assert [s.source_ref for s in sessions] == ["EOS_S1", "EOS_S2"]
    # Unknown extras are kept at every level, in the shape the LHEO writer writes back.
    assert formation.extras["lheo"][0]["attrs"] == {"info": "formation-eos"}
    assert action.extras["lheo"][0]["children"][0]["text"] == "M-2026-45"
    assert sessions[0].extras["lheo"][0]["children"][0]["text"] == "S-77"
    assert DocumentRecherche.objects.filter(formation=formation).exists()
    assert "1 créée(s)" in capsys.readouterr().out

    avant = (history_count(), formation.version, action.version, [s.version for s in sessions])
    call_command("import_offre", str(DATA / "eos-2.3.xml"), "--source", "eos")
    assert "1 inchangée(s)" in capsys.readouterr().out
    formation.refresh_from_db()
    action.refresh_from_db()
    apres = (history_count(), formation.version, action.version, [s.version for s in Session.objects.order_by("debut")])
    assert apres == avant
    assert (Formation.objects.count(), Action.objects.count(), Session.objects.count()) == (1, 1, 2)
    assert Organisme.objects.count() == 1
    assert ImportRun.objects.filter(statut=ImportRun.Statut.TERMINE).count() == 2


def test_an_existing_organisme_is_found_by_siret_then_by_nda(tmp_path):
    par_siret = OrganismeFactory(siret=siret_valide(7))
    par_nda = OrganismeFactory(nda="24450000145")
    importer(fichier_lheo(tmp_path, formation_xml("F1", siret=siret_valide(7))))
    assert Formation.objects.get(source_ref="F1").organisme == par_siret
    # Unknown SIRET, known NDA: the organisme with that NDA.
    importer(fichier_lheo(tmp_path, formation_xml("F2", siret=siret_valide(8)), nom="f2.xml"))
    assert Formation.objects.get(source_ref="F2").organisme == par_nda
    assert Organisme.objects.count() == 2


def test_the_22_namespace_is_read(tmp_path):
    path = fichier_lheo(tmp_path, formation_xml("ONISEP_1"), namespace="http://www.lheo.org/2.2")
    run = importer(path, source="scolaire")
    assert (run.statut, run.crees, run.rejetees) == (ImportRun.Statut.TERMINE, 1, 0)
    formation = Formation.objects.get()
    assert (formation.source, formation.extras["version_lheo"]) == (Source.SCOLAIRE, "2.2")


def test_the_lheo_apps_22_sample_is_imported_twice_with_identical_result():
    run = importer(LHEO_22, source="scolaire")
    assert (run.statut, run.total, run.crees, run.rejetees) == (ImportRun.Statut.TERMINE, 1, 1, 0)
    formation = Formation.objects.get()
    assert formation.intitule == "BTS négociation et relation client"
    assert (formation.organisme.siret, formation.organisme.source) == ("19290076900014", Organisme.Source.IMPORT)
    assert formation.extras["domaine"]["romes"] == ["D1402", "D1403", "D1408"]  # kept, referentiel not loaded
    avant = (history_count(), formation.version, Session.objects.count())
    run = importer(LHEO_22, source="scolaire")
    assert (run.crees, run.mises_a_jour, run.inchangees) == (0, 0, 1)
    formation.refresh_from_db()
    assert (history_count(), formation.version, Session.objects.count()) == avant


def test_bad_records_are_reported_and_the_valid_ones_go_in(tmp_path):
    path = fichier_lheo(
        tmp_path,
        formation_xml("BON"),
        formation_xml("SIRET_FAUX", siret="12345678901234"),
        formation_xml("DATE_FAUSSE", sessions=[("S1", "20261340", "20270305")]),
        formation_xml("DATE_INCONNUE", sessions=[("S1", "00000000", "20270305")]),
        formation_xml("FIN_AVANT_DEBUT", sessions=[("S1", "20270305", "20261102")]),
        formation_xml("SANS_SESSION", sessions=[]),
        formation_xml("SANS_INTITULE", intitule=""),
    )
    run = importer(path)
    assert (run.statut, run.total, run.crees, run.rejetees) == (ImportRun.Statut.TERMINE, 7, 1, 6)
    assert list(Formation.objects.values_list("source_ref", flat=True)) == ["BON"]
    motifs = {r.identifiant: r for r in ImportRejet.objects.filter(run=run)}
    assert set(motifs) == {
        "SIRET_FAUX",
        "DATE_FAUSSE",
        "DATE_INCONNUE",
        "FIN_AVANT_DEBUT",
        "SANS_SESSION",
        "SANS_INTITULE",
    }
    assert "sans SIRET valide" in motifs["SIRET_FAUX"].motif
    assert "20261340" in motifs["DATE_FAUSSE"].motif
    assert "dates de début et de fin" in motifs["DATE_INCONNUE"].motif
    assert "postérieure" in motifs["FIN_AVANT_DEBUT"].motif
    assert "schéma LHEO" in motifs["SANS_SESSION"].motif or "sans session" in motifs["SANS_SESSION"].motif
    assert "intitule-formation" in motifs["SANS_INTITULE"].motif
    lignes = path.read_text().splitlines()
    for rejet in motifs.values():
        assert rejet.ligne and rejet.ligne <= len(lignes)
    # The SIRET check is the organisme's: no organisme was created for the invalid SIRET.
    assert not Organisme.objects.filter(siret="12345678901234").exists()


def test_a_file_refused_for_security_or_not_xml_writes_nothing(tmp_path):
    xxe = tmp_path / "xxe.xml"
    xxe.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE lheo [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>&x;</offres></lheo>'
    )
    run = importer(xxe)
    assert run.statut == ImportRun.Statut.ERREUR
    assert "DOCTYPE" in run.message
    pas_xml = tmp_path / "pas.xml"
    pas_xml.write_text("ceci n'est pas du XML")
    run = importer(pas_xml)
    assert run.statut == ImportRun.Statut.ERREUR and "XML" in run.message
    assert not Formation.objects.exists()


class Panne(Exception):
    pass


def panne_a(position):
    def apres_formation(n):
        if n == position:
            raise Panne("coupure")

    return apres_formation


def test_a_crash_mid_batch_leaves_the_database_as_before_and_a_rerun_resumes(tmp_path):
    path = fichier_lheo(tmp_path, formation_xml("F1"), formation_xml("F2"), formation_xml("F3"))
    run = imports.import_creer(source="eos", chemin=str(path))
    avant = (Formation.objects.count(), Organisme.objects.count(), history_count(), DocumentRecherche.objects.count())
    with pytest.raises(Panne):
        imports.import_executer(run=run, apres_formation=panne_a(2))
    run.refresh_from_db()
    assert run.statut == ImportRun.Statut.ERREUR and "Relancez" in run.message
    assert run.checkpoint == 0
    assert (
        Formation.objects.count(),
        Organisme.objects.count(),
        history_count(),
        DocumentRecherche.objects.count(),
    ) == avant
    imports.import_executer(run=run)
    run.refresh_from_db()
    assert (run.statut, run.crees, run.checkpoint) == (ImportRun.Statut.TERMINE, 3, 3)
    assert Formation.objects.count() == 3


def test_a_crash_keeps_the_committed_batches_and_the_command_resumes_after_them(tmp_path, capsys):
    path = fichier_lheo(tmp_path, formation_xml("F1"), formation_xml("F2"), formation_xml("F3"))
    run = imports.import_creer(source="eos", chemin=str(path))
    with pytest.raises(Panne):
        imports.import_executer(run=run, taille_lot=1, apres_formation=panne_a(2))
    run.refresh_from_db()
    assert (run.checkpoint, run.crees) == (1, 1)
    assert list(Formation.objects.values_list("source_ref", flat=True)) == ["F1"]

    call_command("import_offre", str(path), "--source", "eos", "--taille-lot", "1")
    assert "Reprise de l'import" in capsys.readouterr().out
    run.refresh_from_db()
    assert (run.statut, run.crees, run.inchangees, run.checkpoint) == (ImportRun.Statut.TERMINE, 3, 0, 3)
    assert sorted(Formation.objects.values_list("source_ref", flat=True)) == ["F1", "F2", "F3"]
    assert ImportRun.objects.count() == 1


def test_a_changed_record_is_updated_and_a_validated_one_goes_back_to_validation(tmp_path):
    importer(fichier_lheo(tmp_path, formation_xml("F1")))
    formation = Formation.objects.get()
    Formation.objects.filter(pk=formation.pk).update(etat=Etat.VALIDEE)
    version = formation.version
    run = importer(fichier_lheo(tmp_path, formation_xml("F1", intitule="Nouvel intitulé"), nom="v2.xml"))
    assert (run.mises_a_jour, run.crees, run.inchangees) == (1, 0, 0)
    formation.refresh_from_db()
    assert formation.intitule == "Nouvel intitulé"
    assert formation.version == version + 1
    assert formation.etat == Etat.EN_ATTENTE
    assert formation.transitions.filter(etat_avant=Etat.VALIDEE, etat_apres=Etat.EN_ATTENTE).exists()


def test_a_full_file_archives_what_the_source_no_longer_sends_and_deletes_nothing(tmp_path, staff_user):
    sessions = [("F2_S1", "20261102", "20270305"), ("F2_S2", "20270401", "20270630")]
    importer(fichier_lheo(tmp_path, formation_xml("F1"), formation_xml("F2", sessions=sessions), formation_xml("F3")))
    autre_source = importer(fichier_lheo(tmp_path, formation_xml("AFC1"), nom="afc.xml"), source="afc")
    assert autre_source.crees == 1

    complet = fichier_lheo(tmp_path, formation_xml("F1"), formation_xml("F2", sessions=sessions[:1]), nom="complet.xml")
    call_command("import_offre", str(complet), "--source", "eos", "--complet", "--par", staff_user.email)
    run = ImportRun.objects.filter(complet=True).get()
    # F2 lost a session: the formation itself is unchanged, the missing session is archived.
    assert (run.inchangees, run.archivees) == (2, 2)
    assert Formation.objects.get(source_ref="F3").etat == Etat.ARCHIVE_OF
    assert Session.objects.get(source_ref="F2_S2").etat == Etat.ARCHIVE_OF
    assert Session.objects.get(source_ref="F2_S1").etat != Etat.ARCHIVE_OF
    assert Formation.objects.get(source_ref="F1").etat == Etat.EN_ATTENTE
    assert Formation.objects.get(source_ref="AFC1").etat == Etat.EN_ATTENTE  # another source: untouched
    assert Formation.objects.count() == 4 and Session.objects.count() == 5

    # The same full file again: nothing more to archive.
    call_command("import_offre", str(complet), "--source", "eos", "--complet", "--par", staff_user.email)
    assert ImportRun.objects.filter(complet=True).latest("pk").archivees == 0


def test_complet_needs_a_staff_member_to_record_the_archiving(tmp_path):
    path = fichier_lheo(tmp_path, formation_xml("F1"))
    with pytest.raises(CommandError, match="--par"):
        call_command("import_offre", str(path), "--source", "eos", "--complet")
    user = UserFactory()
    with pytest.raises(CommandError, match="équipe offre"):
        call_command("import_offre", str(path), "--source", "eos", "--complet", "--par", user.email)
    with pytest.raises(CommandError, match="introuvable"):
        call_command("import_offre", str(tmp_path / "absent.xml"), "--source", "eos")


def test_kept_extras_are_written_back_by_the_lheo_writer_and_the_file_reimports_unchanged(tmp_path):
    """Round trip: import, write the formation with the LHEO writer, import that file as the same source."""
    import io

    from ofeli.lheo.validate import valider_lheo
    from ofeli.lheo.writer import write_formations

    importer(DATA / "eos-2.3.xml")
    sortie = io.BytesIO()
    write_formations(sortie, Formation.objects.all())
    xml = sortie.getvalue()
    assert valider_lheo(io.BytesIO(xml)) == []
    for texte in (b'info="formation-eos"', b"PRF 2026", b"M-2026-45", b"S-77"):
        assert texte in xml
    relu = tmp_path / "relu.xml"
    relu.write_bytes(xml)
    run = importer(relu, source="afc")
    assert (run.crees, run.rejetees) == (1, 0)
    eos, afc = Formation.objects.get(source=Source.REGION), Formation.objects.get(source=Source.AFC)
    assert afc.extras["lheo"] == eos.extras["lheo"]
    assert afc.organisme == eos.organisme


def test_a_file_changed_since_the_run_was_recorded_is_not_resumed(tmp_path):
    path = fichier_lheo(tmp_path, formation_xml("F1"))
    run = imports.import_creer(source="eos", chemin=str(path))
    path.write_text(path.read_text().replace("Formation F1", "Autre intitulé"))
    imports.import_executer(run=run)
    assert run.statut == ImportRun.Statut.ERREUR and "a changé" in run.message
    assert not Formation.objects.exists()


def test_progress_counts_the_file_before_writing(tmp_path):
    path = fichier_lheo(tmp_path, formation_xml("F1"), formation_xml("F2"), formation_xml("F3"))
    run = imports.import_creer(source="eos", chemin=str(path))
    vus = []

    def suivre(position):
        courant = ImportRun.objects.get(pk=run.pk)
        vus.append((courant.total, courant.traitees, courant.progression))

    imports.import_executer(run=run, taille_lot=1, apres_formation=suivre)
    assert vus == [(3, 0, 0), (3, 1, 33), (3, 2, 67)]
    assert (run.traitees, run.progression) == (3, 100)
