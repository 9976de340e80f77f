"""Fault tests that run in the suite (the real kill -9 of a process is in bench/faults/run).

- The database connection lost in the middle of a save: PostgreSQL ends the backend from another connection
  (pg_terminate_backend) while the write's transaction is open; SQLite loses its connection the same way
  (closed under the transaction). The write fails with an error, nothing of it is in the database, what was
  committed before is intact, and the next request works again.
- The worker killed in the middle of an import or a diffusion: simulated in-process by an exception that no
  `except Exception` catches (BaseException), raised between two batches or two formations, which leaves the
  database as a SIGKILL would (the open transaction rolled back, the run still « en cours »).
- A full disk during an export: ENOSPC raised by the write.
"""

import datetime
import errno
import os
import sqlite3
from pathlib import Path

import psycopg
import pytest
import time_machine
from django.db import OperationalError, connection
from django.db.utils import DatabaseError, InterfaceError
from django.urls import reverse
from django.utils import timezone

from ofeli.diffusion import feeds, imports
from ofeli.diffusion.feeds import DiffusionEnCours, diffuser_partenaire
from ofeli.diffusion.models import DiffusionRun, EtatDiffusion, Partenaire
from ofeli.diffusion.models_imports import ImportRun
from ofeli.exports.models import Export
from ofeli.exports.services import export_construire, export_creer
from ofeli.offre import services
from ofeli.offre.models import Action, Formation, Session
from tests.diffusion.test_feeds import formation_validee
from tests.diffusion.test_imports import fichier_lheo, formation_xml
from tests.factories import FormationFactory, SessionFactory


class Tue(BaseException):
    """A SIGKILL seen from the database: nothing after this line runs, no `except Exception` sees it."""


@pytest.fixture(autouse=True)
def stockage_prive(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "prive")},
        },
    }
    return tmp_path / "prive"


_gardien = []


def couper_la_connexion():
    """Ends this process's database session from outside, as a database restart or a network cut does."""
    if connection.vendor == "postgresql":
        pid = connection.connection.info.backend_pid
        params = connection.get_connection_params()
        with psycopg.connect(**params, autocommit=True) as autre:
            autre.execute("SELECT pg_terminate_backend(%s)", [pid])
    else:
        if connection.is_in_memory_db():  # an in-memory test database lives while one connection holds it
            _gardien.append(sqlite3.connect(connection.settings_dict["NAME"], uri=True))
        connection.connection.close()


def retablir_la_connexion():
    """What Django does at the end of the failed request: the unusable connection is dropped, the next opens anew.

    (Django never closes an in-memory SQLite test database, whose data would go: drop the dead handle instead.)
    """
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        connection.connection = None
    else:
        connection.close()


def formation_post(intitule):
    return {
        "intitule": intitule,
        "objectif": "Souder à l'arc TIG.",
        "resultats_attendus": "Soudures conformes.",
        "contenu": "Sécurité, procédés, pratique.",
        "parcours": "1",
        "niveau_entree": "1",
    }


@pytest.mark.django_db(transaction=True)
def test_connection_cut_during_a_save_writes_nothing_and_keeps_what_was_committed(client, saisisseur, monkeypatch):
    client.force_login(saisisseur.user)
    url = reverse("offre:formation_creer")
    assert client.post(url, formation_post("Avant la coupure")).status_code == 302
    avant = list(Formation.objects.order_by("pk").values_list("pk", "intitule", "version"))

    indexer = services.search_index.indexer_formation

    def coupure_pendant_l_ecriture(formation_id):
        # The formation row is written, the transaction is open: the connection goes away now.
        couper_la_connexion()
        return indexer(formation_id)

    monkeypatch.setattr(services.search_index, "indexer_formation", coupure_pendant_l_ecriture)
    client.raise_request_exception = True
    with pytest.raises((OperationalError, InterfaceError, DatabaseError)):
        client.post(url, formation_post("Pendant la coupure"))
    monkeypatch.setattr(services.search_index, "indexer_formation", indexer)
    retablir_la_connexion()

    assert list(Formation.objects.order_by("pk").values_list("pk", "intitule", "version")) == avant
    assert not Formation.objects.filter(intitule="Pendant la coupure").exists()
    # The service is usable again at once: the same entry now goes in.
    assert client.post(url, formation_post("Après la coupure")).status_code == 302
    assert sorted(Formation.objects.values_list("intitule", flat=True)) == ["Après la coupure", "Avant la coupure"]


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_leaves_only_whole_batches_and_the_next_run_completes_it(tmp_path):
    path = fichier_lheo(tmp_path, *(formation_xml(f"F{i}") for i in range(1, 6)))
    run = imports.import_creer(source="eos", chemin=str(path))

    def tue_apres(n):
        if n == 3:
            raise Tue()

    with pytest.raises(Tue):
        imports.import_executer(run=run, taille_lot=2, apres_formation=tue_apres)
    run.refresh_from_db()
    # Batch 1 (F1, F2) committed with its checkpoint; batch 2 (F3 written, F4 not) rolled back whole.
    assert run.statut == ImportRun.Statut.EN_COURS and run.checkpoint == 2
    assert sorted(Formation.objects.values_list("source_ref", flat=True)) == ["F1", "F2"]
    assert Session.objects.count() == 2 and Action.objects.count() == 2

    # Run again at once: refused with a clear message (the killed run may still be alive for all it knows),
    # nothing written.
    aussitot = imports.import_executer(run=imports.import_creer(source="eos", chemin=str(path)))
    assert aussitot.statut == ImportRun.Statut.ERREUR and "est déjà en cours" in aussitot.message
    assert Formation.objects.count() == 2

    # Once the killed run has been silent for IMPORT_INACTIF, the next run (operator or Huey's retry) takes over:
    # everything is there, each formation once, and the killed run is recorded as interrupted.
    with time_machine.travel(timezone.now() + imports.IMPORT_INACTIF + datetime.timedelta(minutes=1)):
        nouveau = imports.import_executer(run=imports.import_creer(source="eos", chemin=str(path)))
    assert (nouveau.statut, nouveau.crees, nouveau.inchangees) == (ImportRun.Statut.TERMINE, 3, 2)
    assert sorted(Formation.objects.values_list("source_ref", flat=True)) == ["F1", "F2", "F3", "F4", "F5"]
    assert Session.objects.count() == 5
    run.refresh_from_db()
    assert run.statut == ImportRun.Statut.ERREUR and "Import interrompu" in run.message


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_process_is_gone_is_taken_over_at_once(tmp_path):
    import subprocess
    import sys

    from ofeli.core.processus import processus_courant

    path = fichier_lheo(tmp_path, formation_xml("F1"))
    mort = subprocess.Popen([sys.executable, "-c", "pass"])
    mort.wait()
    tue = imports.import_creer(source="eos", chemin=str(path))
    ImportRun.objects.filter(pk=tue.pk).update(
        statut=ImportRun.Statut.EN_COURS, battement=timezone.now(), hote=processus_courant()[0], pid=mort.pid
    )
    nouveau = imports.import_executer(run=imports.import_creer(source="eos", chemin=str(path)))
    assert nouveau.statut == ImportRun.Statut.TERMINE and nouveau.crees == 1
    tue.refresh_from_db()
    assert tue.statut == ImportRun.Statut.ERREUR and "Import interrompu" in tue.message


@pytest.mark.django_db
def test_a_killed_diffusion_marks_nothing_as_sent_and_a_later_run_sends_everything(
    organisme, staff_user, monkeypatch, stockage_prive
):
    formations = [formation_validee(organisme, staff_user) for _ in range(3)]
    partenaire = Partenaire.objects.get(slug="site-regional")
    nuit = timezone.localdate()
    ecrire = feeds._Fichier.formation
    compte = {"n": 0}

    def tue_au_deuxieme(self, data, nb_sessions):
        compte["n"] += 1
        if compte["n"] == 2:
            raise Tue()
        return ecrire(self, data, nb_sessions)

    monkeypatch.setattr(feeds._Fichier, "formation", tue_au_deuxieme)
    with pytest.raises(Tue):
        diffuser_partenaire(partenaire=partenaire, nuit=nuit)
    monkeypatch.setattr(feeds._Fichier, "formation", ecrire)

    runs = DiffusionRun.objects.filter(partenaire=partenaire)
    assert {r.statut for r in runs} == {DiffusionRun.Statut.EN_COURS}
    assert not EtatDiffusion.objects.exists()
    dossier = stockage_prive / "diffusion" / partenaire.slug
    assert not [f for f in os.listdir(dossier) if not f.startswith(".tmp-")]  # no file published

    # A second run at once is refused with a clear message: the killed one may still be alive for all it knows.
    with pytest.raises(DiffusionEnCours, match="déjà en cours"):
        diffuser_partenaire(partenaire=partenaire, nuit=nuit)
    # Silent for RUN_INACTIF, the killed run is recorded as interrupted and the night is built again, whole.
    with time_machine.travel(timezone.now() + feeds.RUN_INACTIF + datetime.timedelta(minutes=1)):
        complet, delta = diffuser_partenaire(partenaire=partenaire, nuit=nuit)
    assert (complet.statut, complet.tentative, complet.nb_formations) == (DiffusionRun.Statut.REUSSI, 2, 3)
    assert delta.nb_nouvelles == 3
    assert set(EtatDiffusion.objects.values_list("formation_id", flat=True)) == {f.pk for f in formations}
    interrompus = DiffusionRun.objects.filter(partenaire=partenaire, tentative=1)
    assert {r.statut for r in interrompus} == {DiffusionRun.Statut.ECHEC}
    assert all("Interrompue" in r.erreur for r in interrompus)


@pytest.mark.django_db
def test_a_diffusion_whose_process_is_gone_is_taken_over_at_once_and_its_half_files_removed(
    organisme, staff_user, stockage_prive
):
    import socket
    import subprocess
    import sys

    formation_validee(organisme, staff_user)
    partenaire = Partenaire.objects.get(slug="site-regional")
    nuit = timezone.localdate()
    mort = subprocess.Popen([sys.executable, "-c", "pass"])  # a process that has ended: its number is free
    mort.wait()
    for kind in (DiffusionRun.Kind.COMPLET, DiffusionRun.Kind.DELTA):
        DiffusionRun.objects.create(
            partenaire=partenaire,
            nuit=nuit,
            kind=kind,
            started_at=timezone.now(),
            hote=socket.gethostname(),
            pid=mort.pid,
        )
    dossier = stockage_prive / "diffusion" / partenaire.slug
    dossier.mkdir(parents=True)
    (dossier / ".tmp-abc.xml").write_bytes(b"<lheo>")

    complet, _delta = diffuser_partenaire(partenaire=partenaire, nuit=nuit)  # no wait for RUN_INACTIF
    assert (complet.statut, complet.tentative) == (DiffusionRun.Statut.REUSSI, 2)
    assert not list(dossier.glob(".tmp-*"))
    assert set(DiffusionRun.objects.filter(tentative=1).values_list("statut", flat=True)) == {DiffusionRun.Statut.ECHEC}


@pytest.mark.django_db
def test_a_diffusion_of_another_machine_is_taken_over_once_silent_for_run_inactif(organisme, staff_user):
    formation_validee(organisme, staff_user)
    partenaire = Partenaire.objects.get(slug="site-regional")
    nuit = timezone.localdate()
    debut = timezone.now() - datetime.timedelta(hours=1)  # a long diffusion, still giving signs of life
    run = DiffusionRun.objects.create(
        partenaire=partenaire,
        nuit=nuit,
        kind=DiffusionRun.Kind.COMPLET,
        started_at=debut,
        battement=timezone.now() - datetime.timedelta(minutes=1),
        hote="autre-machine.example",
        pid=1,
    )
    with pytest.raises(DiffusionEnCours, match="déjà en cours"):
        diffuser_partenaire(partenaire=partenaire, nuit=nuit)
    # Its worker killed: no sign of life for RUN_INACTIF, the next run takes over (minutes, not hours).
    with time_machine.travel(timezone.now() + feeds.RUN_INACTIF):
        complet, _delta = diffuser_partenaire(partenaire=partenaire, nuit=nuit)
    assert complet.statut == DiffusionRun.Statut.REUSSI
    run.refresh_from_db()
    assert run.statut == DiffusionRun.Statut.ECHEC and "Interrompue" in run.erreur


@pytest.mark.django_db
def test_a_diffusion_gives_signs_of_life_while_it_builds(organisme, staff_user, monkeypatch):
    formation_validee(organisme, staff_user)
    partenaire = Partenaire.objects.get(slug="site-regional")
    monkeypatch.setattr(feeds, "BATTEMENT", datetime.timedelta(0))  # one per chunk and before each file
    vus = []
    ecrire = feeds._Fichier.formation

    def noter(self, data, nb_sessions):
        # While the file is written, the runs in the database show a sign of life after their start.
        vus.extend(
            DiffusionRun.objects.filter(statut=DiffusionRun.Statut.EN_COURS).values_list("started_at", "battement")
        )
        return ecrire(self, data, nb_sessions)

    monkeypatch.setattr(feeds._Fichier, "formation", noter)
    complet, _delta = diffuser_partenaire(partenaire=partenaire, nuit=timezone.localdate())
    assert complet.statut == DiffusionRun.Statut.REUSSI
    assert vus and all(battement > debut for debut, battement in vus)


@pytest.mark.django_db
def test_a_full_disk_during_an_export_fails_it_and_offers_no_file(lecteur, stockage_prive, monkeypatch):
    SessionFactory(action__formation=FormationFactory(organisme=lecteur.organisme))
    from ofeli.exports import services as export_services

    ecrire = export_services.ecrire

    def disque_plein(output, format, source, *, progress=None):
        output.write(b"<?xml version='1.0'?><lheo><offres>")  # a start of file, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export_services, "ecrire", disque_plein)
    export = export_creer(user=lecteur.user, organisme=lecteur.organisme, format="lheo", params={})
    export = export_construire(export.pk)
    monkeypatch.setattr(export_services, "ecrire", ecrire)

    assert export.statut == Export.Statut.ECHEC
    assert export.erreur.startswith("Espace disque insuffisant sur le serveur")
    assert not export.fichier
    assert not list(stockage_prive.rglob("*.*"))  # nothing truncated kept in private storage


@pytest.mark.django_db
def test_a_full_disk_while_the_export_is_copied_into_the_storage_leaves_no_truncated_file(
    lecteur, stockage_prive, monkeypatch
):
    SessionFactory(action__formation=FormationFactory(organisme=lecteur.organisme))
    from django.core.files.storage import FileSystemStorage

    sauver = FileSystemStorage._save

    def disque_plein(self, name, content):
        # The storage has created the file and written its first bytes when the disk fills up.
        chemin = Path(self.path(name))
        chemin.parent.mkdir(parents=True, exist_ok=True)
        chemin.write_bytes(content.read(100))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(FileSystemStorage, "_save", disque_plein)
    export = export_creer(user=lecteur.user, organisme=lecteur.organisme, format="lheo", params={})
    export = export_construire(export.pk)
    monkeypatch.setattr(FileSystemStorage, "_save", sauver)

    assert export.statut == Export.Statut.ECHEC
    assert export.erreur.startswith("Espace disque insuffisant sur le serveur")
    assert not export.fichier
    assert not [f for f in stockage_prive.rglob("*") if f.is_file()]  # the truncated copy was removed
    # Room again: the next export of the same offer is stored whole.
    autre = export_construire(export_creer(user=lecteur.user, organisme=lecteur.organisme, format="lheo", params={}).pk)
    assert autre.statut == Export.Statut.PRET and autre.taille > 100
