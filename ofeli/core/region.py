"""The configured Carif-Oref region: code, name, départements, the GIP's contact details.

OFeli runs for several regions; nothing region-specific is written in code or templates.
Everything comes from the JSON file named by settings.OFELI_REGION_FILE.
"""

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings

REGIONS_DIR = Path(__file__).resolve().parent.parent / "regions"


@dataclass(frozen=True)
class Gip:
    nom: str
    nom_court: str
    equipe: str
    email: str
    telephones: tuple[str, ...]
    site: str = ""


@dataclass(frozen=True)
class Region:
    code: str
    nom: str
    departements: tuple[str, ...]
    site_public: str
    carif_prefix: str
    gip: Gip
    contacts_externes: dict = field(default_factory=dict)

    def contient_departement(self, departement: str) -> bool:
        return departement in self.departements

    def nda_est_de_la_region(self, nda: str) -> bool:
        """An NDA's first two digits are the code of the region where it was declared."""
        return bool(nda) and nda[:2] == self.code


@cache
def _load(name: str) -> Region:
    path = Path(name) if name.endswith(".json") else REGIONS_DIR / f"{name}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    gip = data.pop("gip")
    gip["telephones"] = tuple(gip.get("telephones", ()))
    data["departements"] = tuple(data["departements"])
    return Region(gip=Gip(**gip), **data)


def current_region() -> Region:
    return _load(settings.OFELI_REGION_FILE)
