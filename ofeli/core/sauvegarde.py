"""Backups and restores of a whole OFeli: the database and the private files, with a manifest of checksums.

A backup is a directory:

- ``base.dump`` (PostgreSQL: ``pg_dump --format=custom``) or ``base.sqlite3`` (SQLite: the sqlite3 online backup
  API, consistent while the web and the worker write, WAL included);
- ``fichiers.tar.gz``: the private files directory (attachments, agreements, exports, diffusion feeds);
- ``manifest.json``, written last (a directory without it is an unfinished backup): format, engine, date, the
  applied migrations, the row count of every table **as of the dump's snapshot**, and the size and SHA-256 of each
  file.

On PostgreSQL the counts and the dump read the same snapshot (``pg_export_snapshot`` then ``pg_dump --snapshot``),
so they agree exactly even while users write. A restore checks every checksum before touching anything, replaces
the database in one transaction (``pg_restore --clean --single-transaction``; SQLite: the backup API into the live
file), replaces the private files, then counts every table again and fails loudly on any difference.
"""

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404  # pg_dump / pg_restore, with argument lists, never a shell
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connections

FORMAT = 1
MANIFEST = "manifest.json"
FICHIERS = "fichiers.tar.gz"
DUMP = {"postgresql": "base.dump", "sqlite": "base.sqlite3"}


class SauvegardeErreur(Exception):
    """A backup or a restore that cannot go on; the message is for the operator, in French."""


def sha256_fichier(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dossier_fichiers() -> Path:
    return Path(settings.STORAGES["default"]["OPTIONS"]["location"])


def _libpq_env(settings_dict: dict) -> dict:
    env = dict(os.environ)
    mapping = {"HOST": "PGHOST", "PORT": "PGPORT", "USER": "PGUSER", "PASSWORD": "PGPASSWORD", "NAME": "PGDATABASE"}  # nosec B105  # an environment variable's name, not a password
    for key, var in mapping.items():
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = options["sslmode"]
    return env


def _tables(connection) -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor, include_views=False))


def _compter(connection) -> dict[str, int]:
    quote = connection.ops.quote_name
    counts = {}
    with connection.cursor() as cursor:
        for table in _tables(connection):
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608  # nosec B608  # table names from the catalogue, quoted
            counts[table] = cursor.fetchone()[0]
    return counts


def _migrations(connection) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [f"{app}.{name}" for app, name in cursor.fetchall()]


def _run(command: list[str], env: dict, what: str) -> None:
    try:
        completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603  # fixed executable, arguments from settings
    except FileNotFoundError:
        raise SauvegardeErreur(f"{command[0]} est introuvable : installez les outils clients PostgreSQL.") from None
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
        raise SauvegardeErreur(f"{what} a échoué : " + " / ".join(detail))


# --- backup --------------------------------------------------------------------------------------------------


def _sauvegarder_postgresql(connection, cible: Path) -> tuple[dict, list]:
    """Counts and dump from one snapshot: a REPEATABLE READ transaction exports it, pg_dump reads it."""
    raw = connection.get_new_connection(connection.get_connection_params())  # never the caller's transaction
    try:
        raw.autocommit = False
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            quote = connection.ops.quote_name
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
            counts = {}
            for (table,) in cursor.fetchall():
                cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608  # nosec B608  # table names from the catalogue, quoted
                counts[table] = cursor.fetchone()[0]
            cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
            migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={cible}",
                ],
                _libpq_env(connection.settings_dict),
                "pg_dump",
            )
            raw.rollback()
    finally:
        raw.close()
    return counts, migrations


def _sauvegarder_sqlite(connection, cible: Path) -> tuple[dict, list]:
    connection.ensure_connection()
    destination = sqlite3.connect(cible)
    try:
        connection.connection.backup(destination)
    finally:
        destination.close()
    copie = sqlite3.connect(cible)
    try:
        if copie.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise SauvegardeErreur("La copie de la base SQLite est corrompue : sauvegarde abandonnée.")
        tables = [
            r[0]
            for r in copie.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        counts = {t: copie.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608  # nosec B608  # table names from sqlite_master
        migrations = [f"{a}.{n}" for a, n in copie.execute("SELECT app, name FROM django_migrations ORDER BY 1, 2")]
        copie.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        copie.close()
    return counts, migrations


def _archiver_fichiers(source: Path, cible: Path) -> int:
    nombre = 0
    with tarfile.open(cible, "w:gz") as tar:
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.is_file() and not path.name.startswith(".tmp-"):
                    tar.add(path, arcname=str(path.relative_to(source)), recursive=False)
                    nombre += 1
    return nombre


def sauvegarder(*, dossier: Path, alias: str = "default") -> dict:
    """Writes a backup into `dossier` (created; must be empty) and returns its manifest."""
    connection = connections[alias]
    vendor = connection.vendor
    if vendor not in DUMP:
        raise SauvegardeErreur(f"Base {vendor} non prise en charge : PostgreSQL ou SQLite.")
    dossier = Path(dossier)
    if dossier.exists() and any(dossier.iterdir()):
        raise SauvegardeErreur(f"Le dossier {dossier} n'est pas vide : choisissez un dossier neuf.")
    dossier.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.UTC)
    dump = dossier / DUMP[vendor]
    if vendor == "postgresql":
        counts, migrations = _sauvegarder_postgresql(connection, dump)
    else:
        counts, migrations = _sauvegarder_sqlite(connection, dump)
    nombre_fichiers = _archiver_fichiers(dossier_fichiers(), dossier / FICHIERS)
    manifest = {
        "format": FORMAT,
        "application": "ofeli",
        "moteur": vendor,
        "cree_le": started.isoformat(),
        "duree_s": round((datetime.datetime.now(datetime.UTC) - started).total_seconds(), 3),
        "migrations": migrations,
        "lignes": counts,
        "nombre_fichiers_prives": nombre_fichiers,
        "fichiers": {
            name: {"taille": (dossier / name).stat().st_size, "sha256": sha256_fichier(dossier / name)}
            for name in (DUMP[vendor], FICHIERS)
        },
    }
    temporaire = dossier / (MANIFEST + ".tmp")
    temporaire.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    with open(temporaire, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporaire, dossier / MANIFEST)
    return manifest


# --- restore -------------------------------------------------------------------------------------------------


def lire_manifest(dossier: Path) -> dict:
    """Reads and checks a backup directory: manifest present, every file there with its size and checksum."""
    dossier = Path(dossier)
    chemin = dossier / MANIFEST
    if not chemin.is_file():
        raise SauvegardeErreur(f"{dossier} ne contient pas de {MANIFEST} : sauvegarde absente ou inachevée.")
    try:
        manifest = json.loads(chemin.read_text(encoding="utf-8"))
    except ValueError:
        raise SauvegardeErreur(f"{MANIFEST} illisible : la sauvegarde est endommagée.") from None
    if manifest.get("application") != "ofeli" or manifest.get("format") != FORMAT:
        raise SauvegardeErreur("Ce dossier n'est pas une sauvegarde OFeli dans un format connu.")
    for name, attendu in manifest["fichiers"].items():
        path = dossier / name
        if not path.is_file():
            raise SauvegardeErreur(f"Fichier manquant dans la sauvegarde : {name}.")
        if path.stat().st_size != attendu["taille"] or sha256_fichier(path) != attendu["sha256"]:
            raise SauvegardeErreur(f"Somme de contrôle incorrecte pour {name} : la sauvegarde est endommagée.")
    return manifest


def _restaurer_postgresql(connection, dump: Path) -> None:
    connection.close()
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ],
        _libpq_env(connection.settings_dict),
        "pg_restore",
    )


def _restaurer_sqlite(connection, dump: Path) -> None:
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    try:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise SauvegardeErreur("La base sauvegardée est corrompue : restauration abandonnée.")
        connection.ensure_connection()
        source.backup(connection.connection)
    finally:
        source.close()


def _restaurer_fichiers(archive: Path, cible: Path) -> None:
    """Extracts into a temporary folder beside, then replaces the folder's content (a mount point stays)."""
    cible.mkdir(parents=True, exist_ok=True)
    temporaire = Path(tempfile.mkdtemp(prefix=".restauration-", dir=cible))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(temporaire, filter="data")
        for entry in cible.iterdir():
            if entry == temporaire:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for entry in temporaire.iterdir():
            os.replace(entry, cible / entry.name)
    finally:
        shutil.rmtree(temporaire, ignore_errors=True)


def restaurer(*, dossier: Path, alias: str = "default") -> dict:
    """Replaces the database and the private files by the backup's; returns the manifest.

    Checks every checksum before, counts every table after."""
    dossier = Path(dossier)
    manifest = lire_manifest(dossier)
    connection = connections[alias]
    if manifest["moteur"] != connection.vendor:
        raise SauvegardeErreur(
            f"Sauvegarde {manifest['moteur']} : la base configurée est {connection.vendor}. "
            "Restaurez dans une base du même moteur."
        )
    dump = dossier / DUMP[manifest["moteur"]]
    if connection.vendor == "postgresql":
        _restaurer_postgresql(connection, dump)
    else:
        _restaurer_sqlite(connection, dump)
    connection.close()
    lignes = _compter(connection)
    ecarts = {
        table: (attendu, lignes.get(table))
        for table, attendu in manifest["lignes"].items()
        if lignes.get(table) != attendu
    }
    if ecarts:
        detail = ", ".join(f"{t} : {a} attendues, {n} trouvées" for t, (a, n) in sorted(ecarts.items())[:10])
        raise SauvegardeErreur(f"La base restaurée ne correspond pas à la sauvegarde ({detail}).")
    _restaurer_fichiers(dossier / FICHIERS, dossier_fichiers())
    cache.clear()
    return manifest
