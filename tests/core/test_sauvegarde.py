"""Backups that are restored: `sauvegarder` then `restaurer` give back exactly the data of the backup.

Runs on the configured engine (SQLite in `make test`, PostgreSQL in `make test-pg`) against a scratch database
of its own (a file in tmp on SQLite, `<test database>_sauvegarde` on PostgreSQL), never the test database other
tests use: the commands take `--database`.
"""

import copy
import json
import types

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from ofeli.core.sauvegarde import _compter
from ofeli.organismes.models import Organisme

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def prive(tmp_path, settings):
    dossier = tmp_path / "prive"
    dossier.mkdir()
    storages = copy.deepcopy(settings.STORAGES)
    storages["default"]["OPTIONS"]["location"] = str(dossier)
    settings.STORAGES = storages
    return dossier


def _admin_pg(default):
    params = default.get_connection_params()
    params["dbname"] = "postgres"
    return psycopg.connect(**params, autocommit=True)


@pytest.fixture
def scratch(tmp_path, prive, django_db_blocker):
    """A database alias "scratch" holding the project's schema (restored from a backup of the test database)."""
    default = connections["default"]
    cfg = copy.deepcopy(connections.settings["default"])
    if default.vendor == "postgresql":
        cfg["NAME"] = f"{default.settings_dict['NAME']}_sauvegarde"[:63]
        with _admin_pg(default) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}"')
            admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    else:
        cfg["NAME"] = str(tmp_path / "scratch.sqlite3")
    connections.settings["scratch"] = cfg
    # Django's test case refuses connections to aliases it was not told about at set-up; the scratch alias
    # exists only in these tests: its wrapper gets the real method (the one pytest-django's blocker keeps).
    real = django_db_blocker._real_ensure_connection
    connections["scratch"].ensure_connection = types.MethodType(real, connections["scratch"])
    schema = tmp_path / "schema"
    call_command("sauvegarder", output=str(schema), verbosity=0)
    call_command("restaurer", str(schema), yes=True, database="scratch", verbosity=0)
    yield connections["scratch"]
    connections["scratch"].close()
    del connections["scratch"]
    del connections.settings["scratch"]
    if default.vendor == "postgresql":
        with _admin_pg(default) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')


def _organisme(n, **extra):
    return Organisme.objects.using("scratch").create(
        raison_sociale=f"Organisme {n} — Tours", siret=f"{n:014d}", **extra
    )


def _etat(scratch, prive):
    organismes = list(Organisme.objects.using("scratch").order_by("pk").values())
    fichiers = {str(p.relative_to(prive)): p.read_bytes() for p in sorted(prive.rglob("*")) if p.is_file()}
    return organismes, _compter(scratch), fichiers


def test_backup_change_restore_gives_back_exactly_the_backup(scratch, prive, tmp_path):
    for n in range(1, 6):
        _organisme(n, sigle=f"O{n}")
    (prive / "offre" / "conventions").mkdir(parents=True)
    (prive / "offre" / "conventions" / "convention-1.pdf").write_bytes(b"%PDF-1.4 convention 1")
    (prive / "exports").mkdir()
    (prive / "exports" / "export.xml").write_bytes(b"<lheo/>")
    sauvegarde = tmp_path / "sauvegarde"
    call_command("sauvegarder", output=str(sauvegarde), database="scratch", verbosity=0)
    attendu = _etat(scratch, prive)
    manifest = json.loads((sauvegarde / "manifest.json").read_text())
    assert manifest["lignes"]["organismes_organisme"] == 5
    assert manifest["nombre_fichiers_prives"] == 2
    assert set(manifest["fichiers"]) == {
        "base.dump" if scratch.vendor == "postgresql" else "base.sqlite3",
        "fichiers.tar.gz",
    }

    # Life goes on after the backup: rows deleted, changed and added, files replaced, added and removed.
    Organisme.objects.using("scratch").filter(siret=f"{1:014d}").delete()
    Organisme.objects.using("scratch").filter(siret=f"{2:014d}").update(raison_sociale="Renommé")
    _organisme(99)
    (prive / "exports" / "export.xml").unlink()
    (prive / "offre" / "conventions" / "convention-1.pdf").write_bytes(b"autre contenu")
    (prive / "nouveau.txt").write_text("après la sauvegarde")
    assert _etat(scratch, prive) != attendu

    call_command("restaurer", str(sauvegarde), yes=True, database="scratch", verbosity=0)
    assert _etat(scratch, prive) == attendu
    # The restored database takes writes again (sequences restored with the data).
    _organisme(100)
    assert Organisme.objects.using("scratch").count() == 6


def test_restore_refuses_without_yes_and_changes_nothing(scratch, prive, tmp_path):
    _organisme(1)
    sauvegarde = tmp_path / "sauvegarde"
    call_command("sauvegarder", output=str(sauvegarde), database="scratch", verbosity=0)
    _organisme(2)
    with pytest.raises(CommandError, match="relancez avec --yes"):
        call_command("restaurer", str(sauvegarde), database="scratch", verbosity=0)
    assert Organisme.objects.using("scratch").count() == 2


def test_a_damaged_backup_is_refused_before_anything_is_touched(scratch, prive, tmp_path):
    _organisme(1)
    (prive / "a.txt").write_text("a")
    sauvegarde = tmp_path / "sauvegarde"
    call_command("sauvegarder", output=str(sauvegarde), database="scratch", verbosity=0)
    _organisme(2)
    (prive / "b.txt").write_text("b")
    dump = next(p for p in sauvegarde.iterdir() if p.name.startswith("base."))
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="Somme de contrôle incorrecte pour base"):
        call_command("restaurer", str(sauvegarde), yes=True, database="scratch", verbosity=0)
    assert Organisme.objects.using("scratch").count() == 2
    assert (prive / "b.txt").exists()


def test_an_unfinished_backup_or_a_used_folder_is_refused(scratch, prive, tmp_path):
    sauvegarde = tmp_path / "sauvegarde"
    call_command("sauvegarder", output=str(sauvegarde), database="scratch", verbosity=0)
    with pytest.raises(CommandError, match="n'est pas vide"):
        call_command("sauvegarder", output=str(sauvegarde), database="scratch", verbosity=0)
    (sauvegarde / "manifest.json").unlink()
    with pytest.raises(CommandError, match="sauvegarde absente ou inachevée"):
        call_command("restaurer", str(sauvegarde), yes=True, database="scratch", verbosity=0)
