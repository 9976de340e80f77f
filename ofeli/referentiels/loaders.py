"""Loading the referentials from their data files (see data/PROVENANCE.md).

One function per referential, `<referentiel>_charger(*, path)`: it reads and checks the whole file first (a
malformed file raises `ErreurFichier` with the line number, before anything is written), then upserts inside one
transaction: new codes are created, changed labels updated, identical rows left alone, so a second run changes
nothing. Codes missing from a new file are kept (formations may still point at them); certifications missing from
a new France Compétences export are kept as they are, their `actif` flag comes from the export itself.
"""

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from ofeli.core.region import current_region

from .models import NSF, BlocCompetences, Certification, CertifInfo, Commune, Departement, Formacode, Region, Rome
from .text import normaliser

DATA_DIR = Path(__file__).resolve().parent / "data"
SAMPLES_DIR = DATA_DIR / "samples"

REGIONS_FILE = DATA_DIR / "regions.json"
DEPARTEMENTS_FILE = DATA_DIR / "departements.json"
NSF_FILE = DATA_DIR / "nsf.csv"
ROME_FILE = DATA_DIR / "rome_v346.csv"
CERTIFINFO_FILE = DATA_DIR / "certifinfo.json"
FORMACODE_SAMPLE = SAMPLES_DIR / "formacode-sample.csv"
RNCP_SAMPLE = SAMPLES_DIR / "rncp-rs-sample-fiches.csv"
RNCP_BLOCS_SAMPLE = SAMPLES_DIR / "rncp-rs-sample-blocs.csv"

BATCH_SIZE = 500


class ErreurFichier(Exception):
    """A data file that cannot be loaded; the message is in French and names the file and the line."""

    def __init__(self, path, message: str, ligne: int | None = None):
        self.path = Path(path)
        self.ligne = ligne
        where = f"{self.path.name}, ligne {ligne}" if ligne else self.path.name
        super().__init__(f"{where} : {message}")


@dataclass
class Bilan:
    """What one load did."""

    referentiel: str
    crees: int = 0
    modifies: int = 0
    inchanges: int = 0

    @property
    def total(self) -> int:
        return self.crees + self.modifies + self.inchanges

    def __str__(self):
        return (
            f"{self.referentiel} : {self.total} dans le fichier, {self.crees} créé(s), "
            f"{self.modifies} mis à jour, {self.inchanges} inchangé(s)."
        )


def communes_file_for_region() -> Path:
    """The communes file shipped for the configured region: data/communes-<slug of the region's name>.csv."""
    return DATA_DIR / f"communes-{slugify(current_region().nom)}.csv"


# --- reading --------------------------------------------------------------------------------------------------


def _open_text(path: Path):
    path = Path(path)
    if not path.is_file():
        raise ErreurFichier(path, "fichier introuvable.")
    return path.open(encoding="utf-8-sig", newline="")


def _csv_rows(path, required: list[str], delimiter: str | None = None) -> Iterator[tuple[int, dict]]:
    """Yields (line number, row) of a UTF-8 CSV whose header has the `required` columns."""
    with _open_text(path) as fh:
        try:
            first = fh.readline()
        except UnicodeDecodeError:
            raise ErreurFichier(path, "le fichier n'est pas encodé en UTF-8.", 1) from None
        if not first.strip():
            raise ErreurFichier(path, "le fichier est vide (une ligne d'en-tête est attendue).", 1)
        if delimiter is None:
            delimiter = ";" if first.count(";") >= first.count(",") else ","
        header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
        missing = [c for c in required if c not in header]
        if missing:
            raise ErreurFichier(
                path,
                f"colonne(s) manquante(s) dans l'en-tête : {', '.join(missing)} "
                f"(colonnes trouvées : {', '.join(header) or 'aucune'}).",
                1,
            )
        reader = csv.reader(fh, delimiter=delimiter)
        line = 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise ErreurFichier(path, "le fichier n'est pas encodé en UTF-8.", line + 1) from None
            except csv.Error as exc:
                raise ErreurFichier(path, f"ligne CSV illisible ({exc}).", line + 1) from None
            line = reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise ErreurFichier(path, f"{len(values)} colonne(s) au lieu des {len(header)} de l'en-tête.", line)
            yield line, {h: v.strip() for h, v in zip(header, values, strict=True)}


def _json(path):
    with _open_text(path) as fh:
        try:
            return json.load(fh)
        except UnicodeDecodeError:
            raise ErreurFichier(path, "le fichier n'est pas encodé en UTF-8.") from None
        except json.JSONDecodeError as exc:
            raise ErreurFichier(path, f"JSON illisible ({exc.msg}).", exc.lineno) from None


def _require(path, line, value, pattern: re.Pattern, what: str):
    if not pattern.fullmatch(value):
        raise ErreurFichier(path, f"{what} invalide : « {value} ».", line)


def _require_text(path, line, value, what: str, max_length: int):
    if not value:
        raise ErreurFichier(path, f"{what} vide.", line)
    if len(value) > max_length:
        raise ErreurFichier(path, f"{what} trop long ({len(value)} caractères, {max_length} au plus).", line)


# --- writing --------------------------------------------------------------------------------------------------


def _upsert(model, key: str, rows: dict[str, dict], nom: str) -> Bilan:
    """Creates the missing rows, updates the changed ones; `rows` maps a key to the field values."""
    bilan = Bilan(nom)
    fields = sorted({f for values in rows.values() for f in values})
    existing = {getattr(obj, key): obj for obj in model.objects.filter(**{f"{key}__in": list(rows)})}
    to_create, to_update = [], []
    for code, values in rows.items():
        obj = existing.get(code)
        if obj is None:
            to_create.append(model(**{key: code}, **values))
        elif any(getattr(obj, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(obj, f, v)
            to_update.append(obj)
        else:
            bilan.inchanges += 1
    model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    if to_update:
        model.objects.bulk_update(to_update, fields, batch_size=BATCH_SIZE)
    bilan.crees, bilan.modifies = len(to_create), len(to_update)
    return bilan


# --- régions, départements, communes --------------------------------------------------------------------------

CODE_REGION = re.compile(r"\d{2,3}")
CODE_DEPARTEMENT = re.compile(r"\d{2,3}|2[AB]")
CODE_INSEE = re.compile(r"\d{5}|2[AB]\d{3}")
CODE_POSTAL = re.compile(r"\d{5}")


def regions_charger(*, regions_path=REGIONS_FILE, departements_path=DEPARTEMENTS_FILE) -> list[Bilan]:
    regions, departements = {}, {}
    for i, item in enumerate(_records(regions_path), start=1):
        code, nom = str(item.get("code", "")), str(item.get("nom", "")).strip()
        _require(regions_path, i, code, CODE_REGION, "code région")
        _require_text(regions_path, i, nom, "nom de région", 100)
        regions[code] = {"nom": nom}
    for i, item in enumerate(_records(departements_path), start=1):
        code, nom, region = str(item.get("code", "")), str(item.get("nom", "")).strip(), str(item.get("region", ""))
        _require(departements_path, i, code, CODE_DEPARTEMENT, "code département")
        _require_text(departements_path, i, nom, "nom de département", 100)
        if region not in regions:
            raise ErreurFichier(departements_path, f"région inconnue « {region} » pour le département {code}.", i)
        departements[code] = {"nom": nom, "region_id": region}
    with transaction.atomic():
        return [_upsert(Region, "code", regions, "Régions"), _upsert(Departement, "code", departements, "Départements")]


def _records(path) -> list[dict]:
    data = _json(path)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ErreurFichier(path, "une liste d'objets JSON est attendue.")
    return data


def coordonnees_file_for(communes_path: Path) -> Path:
    """The coordinates shipped beside a communes file: <same name>-coordonnees.csv (code_insee,latitude,longitude)."""
    communes_path = Path(communes_path)
    return communes_path.with_name(f"{communes_path.stem}-coordonnees.csv")


def _coordonnees(path: Path) -> dict[str, tuple[float, float]]:
    """{code INSEE: (latitude, longitude)} of a coordinates file (WGS 84 decimal degrees, checked)."""
    coordonnees = {}
    for line, row in _csv_rows(path, ["code_insee", "latitude", "longitude"], delimiter=","):
        _require(path, line, row["code_insee"], CODE_INSEE, "code INSEE")
        try:
            latitude, longitude = float(row["latitude"]), float(row["longitude"])
        except ValueError:
            raise ErreurFichier(
                path, f"coordonnées invalides : « {row['latitude']} », « {row['longitude']} ».", line
            ) from None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ErreurFichier(path, f"coordonnées hors limites : {latitude}, {longitude}.", line)
        coordonnees[row["code_insee"]] = (latitude, longitude)
    return coordonnees


def communes_charger(*, path=None, coordonnees_path=None) -> Bilan:
    """The communes of the CSV (COG INSEE format of data/PROVENANCE.md), with their centre's coordinates.

    A commune déléguée or associée that shares its code with its commune nouvelle is not a row of its own (the
    code INSEE is the key); the others are kept with `actuelle=False` and the postal codes of their chef-lieu.
    The coordinates (for the public site's "à moins de N km") come from `coordonnees_path`, by default the file
    <communes file>-coordonnees.csv beside it when there is one; a commune missing from it has none.
    """
    path = Path(path) if path else communes_file_for_region()
    if not path.is_file():
        raise ErreurFichier(
            path, f"aucun fichier de communes pour la région {current_region().nom} : indiquez-le avec --communes."
        )
    required = ["code_insee", "nom", "type", "departement", "region", "codes_postaux", "population", "chef_lieu"]
    actuelles, autres, chefs_lieux = {}, {}, {}
    for line, row in _csv_rows(path, required):
        code = row["code_insee"]
        _require(path, line, code, CODE_INSEE, "code INSEE")
        _require_text(path, line, row["nom"], "nom de commune", 100)
        _require(path, line, row["departement"], CODE_DEPARTEMENT, "code département")
        _require(path, line, row["region"], CODE_REGION, "code région")
        codes_postaux = row["codes_postaux"].split()
        for cp in codes_postaux:
            _require(path, line, cp, CODE_POSTAL, "code postal")
        population = row["population"]
        if population and not population.isdigit():
            raise ErreurFichier(path, f"population invalide : « {population} ».", line)
        values = {
            "nom": row["nom"],
            "departement": row["departement"],
            "region": row["region"],
            "codes_postaux": codes_postaux,
            "population": int(population) if population else None,
            "actuelle": row["type"] in ("", "commune-actuelle"),
        }
        if values["actuelle"]:
            actuelles[code] = values
        else:
            autres.setdefault(code, values)
            chefs_lieux[code] = row["chef_lieu"]
    for code, values in autres.items():
        if code in actuelles:
            continue
        if not values["codes_postaux"]:
            values["codes_postaux"] = list(actuelles.get(chefs_lieux[code], {}).get("codes_postaux", []))
        actuelles[code] = values
    coordonnees_path = Path(coordonnees_path) if coordonnees_path else coordonnees_file_for(path)
    coordonnees = _coordonnees(coordonnees_path) if coordonnees_path.is_file() else {}
    for code, values in actuelles.items():
        values["recherche"] = normaliser(" ".join([values["nom"], code, *values["codes_postaux"]]))
        values["latitude"], values["longitude"] = coordonnees.get(code, (None, None))
    with transaction.atomic():
        return _upsert(Commune, "code_insee", actuelles, "Communes")


# --- code;libellé referentials -------------------------------------------------------------------------------

CODE_NSF = re.compile(r"\d{3}")
CODE_ROME = re.compile(r"[A-N]\d{4}")
CODE_FORMACODE = re.compile(r"\d{5}")
CODE_CERTIFINFO = re.compile(r"\d{1,10}")


def _code_libelle(path, code_col, libelle_col, pattern, what, extra=None) -> dict[str, dict]:
    rows = {}
    required = [code_col, libelle_col]
    for line, row in _csv_rows(path, required):
        code, libelle = row[code_col], row[libelle_col]
        _require(path, line, code, pattern, what)
        _require_text(path, line, libelle, "libellé", 255)
        values = {"libelle": libelle, "recherche": normaliser(f"{code} {libelle}")}
        if extra:
            values.update(extra(path, line, row))  # nosec B610  # `extra` is a local callable, not QuerySet.extra()
        rows[code] = values
    if not rows:
        raise ErreurFichier(path, "aucune ligne de données.")
    return rows


def nsf_charger(*, path=NSF_FILE) -> Bilan:
    rows = _code_libelle(path, "code_nsf", "libelle", CODE_NSF, "code NSF")
    with transaction.atomic():
        return _upsert(NSF, "code", rows, "NSF")


def rome_charger(*, path=ROME_FILE) -> Bilan:
    rows = _code_libelle(path, "code_rome", "libelle", CODE_ROME, "code ROME")
    with transaction.atomic():
        return _upsert(Rome, "code", rows, "ROME")


VERSION_FORMACODE = re.compile(r"V\d{1,2}")


def _formacode_version(path, line, row):
    version = row.get("version", "")
    if not version:
        return {}
    _require(path, line, version, VERSION_FORMACODE, "version du Formacode")
    return {"version": version}


def formacode_charger(*, path) -> Bilan:
    """A Formacode file of the operator: CSV `code;libelle` (optional third column `version`)."""
    rows = _code_libelle(path, "code", "libelle", CODE_FORMACODE, "code Formacode", extra=_formacode_version)
    with transaction.atomic():
        return _upsert(Formacode, "code", rows, "Formacode")


CERTIFINFO_SUFFIX = re.compile(r"\s*\(\d{1,10}\)\s*$")


def certifinfo_charger(*, path=CERTIFINFO_FILE) -> Bilan:
    """Certif Info snapshot `{code: {parent, text}}`; type and level entries (non-numeric keys) are skipped."""
    data = _json(path)
    if not isinstance(data, dict):
        raise ErreurFichier(path, "un objet JSON {code: {text: …}} est attendu.")
    rows = {}
    for code, item in data.items():
        if not CODE_CERTIFINFO.fullmatch(code):
            continue
        text = item.get("text", "") if isinstance(item, dict) else ""
        libelle = CERTIFINFO_SUFFIX.sub("", str(text)).strip()
        if not libelle:
            raise ErreurFichier(path, f"libellé vide pour le code Certif Info {code}.")
        rows[code] = {"libelle": libelle}
    with transaction.atomic():
        return _upsert(CertifInfo, "code", rows, "Certif Info")


# --- RNCP / RS (France Compétences open data) -----------------------------------------------------------------

NUMERO_FICHE = re.compile(r"(RNCP|RS)(\d{1,7})")
NIVEAU_EUROPE = re.compile(r"(NIV\d)?")
ACTIF = {"ACTIVE": True, "INACTIVE": False}


def _fiches(path) -> dict[str, dict]:
    rows = {}
    for line, row in _csv_rows(path, ["Numero_Fiche", "Intitule", "Actif"], delimiter=";"):
        numero = row["Numero_Fiche"].upper().replace(" ", "")
        match = NUMERO_FICHE.fullmatch(numero)
        if not match:
            raise ErreurFichier(
                path, f"Numero_Fiche invalide : « {row['Numero_Fiche']} » (RNCP… ou RS… attendu).", line
            )
        intitule = row["Intitule"]
        _require_text(path, line, intitule, "Intitule", 500)
        actif = ACTIF.get(row["Actif"].upper())
        if actif is None:
            raise ErreurFichier(path, f"Actif invalide : « {row['Actif']} » (ACTIVE ou INACTIVE attendu).", line)
        niveau = row.get("Nomenclature_Europe_Niveau", "").upper()
        _require(path, line, niveau, NIVEAU_EUROPE, "Nomenclature_Europe_Niveau")
        rows[numero] = {
            "type": match.group(1),
            "intitule": intitule,
            "niveau": niveau,
            "actif": actif,
            "recherche": normaliser(f"{numero} {intitule}"),
        }
    return rows


def _blocs(path, fiches: dict) -> dict[str, dict]:
    known = set(fiches) | set(Certification.objects.values_list("code", flat=True))
    rows = {}
    required = ["Numero_Fiche", "Bloc_Competences_Code", "Bloc_Competences_Libelle"]
    for line, row in _csv_rows(path, required, delimiter=";"):
        numero = row["Numero_Fiche"].upper().replace(" ", "")
        if numero not in known:
            raise ErreurFichier(path, f"certification inconnue « {row['Numero_Fiche']} » pour ce bloc.", line)
        code = row["Bloc_Competences_Code"].upper().replace(" ", "")
        _require_text(path, line, code, "Bloc_Competences_Code", 40)
        libelle = row["Bloc_Competences_Libelle"]
        _require_text(path, line, libelle, "Bloc_Competences_Libelle", 500)
        rows[code] = {"numero": numero, "libelle": libelle}
    return rows


def certifications_charger(*, paths: list, blocs_path=None) -> list[Bilan]:
    """France Compétences exports: fiches (`export_fiches_CSV_Standard_*.csv`, RNCP and RS) and their blocs."""
    fiches = {}
    for path in paths:
        fiches.update(_fiches(path))
    blocs = _blocs(blocs_path, fiches) if blocs_path else {}
    with transaction.atomic():
        bilans = [_upsert(Certification, "code", fiches, "Certifications RNCP/RS")] if fiches else []
        if blocs:
            ids = dict(
                Certification.objects.filter(code__in={b["numero"] for b in blocs.values()}).values_list("code", "id")
            )
            rows = {code: {"certification_id": ids[b["numero"]], "libelle": b["libelle"]} for code, b in blocs.items()}
            bilans.append(_upsert(BlocCompetences, "code", rows, "Blocs de compétences"))
        return bilans
