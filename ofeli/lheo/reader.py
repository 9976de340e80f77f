"""Reads LHEO files (2.3 and 2.2 namespaces) into plain dataclasses, one formation at a time.

``lire_formations(source)`` streams the file (lxml iterparse, each <formation> cleared once read), so memory
stays bounded whatever the size, and yields ``FormationData`` > ``ActionData`` > ``SessionData`` (with
``OrganismeData``, ``ContactData``, ``LieuData``...). Nothing is written to the database here: the import (upsert)
builds on these objects.

- Both namespaces are accepted (``http://lheo.gouv.fr/2.3`` and ``http://www.lheo.org/2.2``); any other is
  refused with a clear error.
- Dates (``debut``, ``fin``, ``date``) are ``AAAAMMJJ`` with the LHEO placeholders: ``00000000`` unknown start,
  ``99999999`` unknown end, ``AAAAMM00`` month only, ``AAAA0000`` year only (``DateLheo`` keeps the raw text
  and the precision). ``@datecrea``/``@datemaj`` are read in ISO 8601 or ``AAAAMMJJ``.
- Unknown ``extras`` are kept as data (``extras``: JSON-ready nodes, see ofeli.lheo.extras) and LHEO elements
  OFeli does not model are kept the same way (``autres``): nothing is dropped. OFeli's own extras
  (``info="ofeli"``) come back as the ``ofeli`` dict (dispositif, numéro de marché, état...).
- Parsing is hardened (ofeli.lheo.safe): a DOCTYPE (DTD, entities) is refused, nothing is fetched.

Errors are ``LheoError`` with a French message and the line.
"""

import calendar
import dataclasses
import datetime
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from lxml import etree

from . import NAMESPACES, NS_22, NS_23, LheoError
from .extras import OFELI_INFO, node_from_element, ofeli_values
from .safe import safe_iterparse

# --- values -----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DateLheo:
    """An LHEO date: `valeur` is None when unknown; `precision` is "jour", "mois", "annee" or "inconnue"."""

    brut: str
    valeur: datetime.date | None
    precision: str


def parse_date_lheo(text: str, *, fin: bool = False, line: int | None = None) -> DateLheo:
    """AAAAMMJJ with placeholders. A month-only or year-only end date is the last day of that period."""
    brut = (text or "").strip()
    if len(brut) != 8 or not brut.isdigit():
        raise LheoError(f"date « {brut} » invalide : le format attendu est AAAAMMJJ", line=line)
    year, month, day = int(brut[:4]), int(brut[4:6]), int(brut[6:])
    if year == 0 or year == 9999 or brut in {"00000000", "99999999"}:
        return DateLheo(brut, None, "inconnue")
    try:
        if month in (0, 99):
            return DateLheo(brut, datetime.date(year, 12, 31) if fin else datetime.date(year, 1, 1), "annee")
        if day in (0, 99):
            last = calendar.monthrange(year, month)[1]
            return DateLheo(brut, datetime.date(year, month, last if fin else 1), "mois")
        return DateLheo(brut, datetime.date(year, month, day), "jour")
    except ValueError:
        raise LheoError(f"date « {brut} » invalide (jour ou mois hors limites)", line=line) from None


def parse_datecrea(text: str | None) -> datetime.date | None:
    """@datecrea / @datemaj: AAAAMMJJ or ISO 8601 (date or date-time); None when absent or unreadable."""
    if not text:
        return None
    text = text.strip()
    try:
        if len(text) == 8 and text.isdigit():
            return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if len(text) >= 10:
            return datetime.date.fromisoformat(text[:10])
    except ValueError:
        return None
    return None


# --- dataclasses ------------------------------------------------------------------------------------------


def _list():
    return dataclasses.field(default_factory=list)


def _dict():
    return dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class CodeData:
    code: str
    ref: str = ""
    tag: str = ""


@dataclasses.dataclass
class AdresseData:
    denomination: str = ""
    lignes: list[str] = _list()
    codepostal: str = ""
    ville: str = ""
    departement: str = ""
    code_insee: str = ""
    code_canton: str = ""
    region: str = ""
    pays: str = ""
    latitude: str = ""
    longitude: str = ""
    extras: list[dict] = _list()
    autres: list[dict] = _list()


@dataclasses.dataclass
class CoordonneesData:
    civilite: str = ""
    nom: str = ""
    prenom: str = ""
    lignes: list[str] = _list()
    adresse: AdresseData | None = None
    telfixe: list[str] = _list()
    portable: list[str] = _list()
    fax: list[str] = _list()
    courriel: str = ""
    web: list[str] = _list()
    extras: list[dict] = _list()
    autres: list[dict] = _list()


@dataclasses.dataclass
class ContactData:
    type_contact: str = ""
    tag: str = ""
    coordonnees: CoordonneesData | None = None
    extras: list[dict] = _list()
    autres: list[dict] = _list()


@dataclasses.dataclass
class LieuData:
    siret: str = ""
    code_uai: str = ""
    coordonnees: CoordonneesData | None = None
    extras: list[dict] = _list()
    autres: list[dict] = _list()


@dataclasses.dataclass
class OrganismeData:
    numero: str = ""
    nda: str = ""
    siret: str = ""
    nom: str = ""
    raison_sociale: str = ""
    coordonnees: CoordonneesData | None = None
    contacts: list[ContactData] = _list()
    renseignements_specifiques: str = ""
    potentiel: list[CodeData] = _list()
    code_uai: str = ""
    attributs: dict = _dict()
    extras: list[dict] = _list()
    autres: list[dict] = _list()


@dataclasses.dataclass
class OrganismeFormateurData:
    siret: str = ""
    raison_sociale: str = ""
    contacts: list[ContactData] = _list()
    code_uai: str = ""
    attributs: dict = _dict()
    extras: list[dict] = _list()
    autres: list[dict] = _list()


@dataclasses.dataclass
class FinanceurData:
    code: str = ""
    nb_places: int | None = None
    extras: list[dict] = _list()


@dataclasses.dataclass
class BlocData:
    code: str = ""
    libelle: str = ""


@dataclasses.dataclass
class BlocsCompetencesData:
    validation: str = ""
    certification: dict[str, str] = _dict()  # {"RNCP": "RNCP35320"} from reference-certification
    blocs: list[BlocData] = _list()
    extras: list[dict] = _list()


@dataclasses.dataclass
class SessionData:
    numero: str = ""
    datecrea: datetime.date | None = None
    datemaj: datetime.date | None = None
    debut: DateLheo | None = None
    fin: DateLheo | None = None
    adresse_inscription: AdresseData | None = None
    modalites_inscription: str = ""
    inscription_debut: DateLheo | None = None
    inscription_fin: DateLheo | None = None
    etat_recrutement: int | None = None
    url: list[str] = _list()
    contacts: list[ContactData] = _list()
    references_certification: list[dict[str, str]] = _list()
    blocs_competences: list[BlocsCompetencesData] = _list()
    attributs: dict = _dict()
    ofeli: dict[str, str] = _dict()
    extras: list[dict] = _list()
    autres: list[dict] = _list()
    ligne: int | None = None


@dataclasses.dataclass
class ActionData:
    numero: str = ""
    datecrea: datetime.date | None = None
    datemaj: datetime.date | None = None
    rythme: str = ""
    publics_vises: list[CodeData] = _list()
    info_public_vise: str = ""
    niveau_entree_obligatoire: bool = False
    modalites_alternance: str = ""
    modalites_enseignement: int | None = None
    conditions_specifiques: str = ""
    prise_en_charge_frais_possible: bool = False
    lieux: list[LieuData] = _list()
    entree_sortie_permanente: bool = False
    url: list[str] = _list()
    duree_cycle: int | None = None
    sessions: list[SessionData] = _list()
    adresse_information: AdresseData | None = None
    restauration: str = ""
    hebergement: str = ""
    transport: str = ""
    acces_handicapes: str = ""
    langues: list[str] = _list()
    modalites_recrutement: str = ""
    modalites_pedagogiques: str = ""
    codes_modalites_pedagogiques: list[CodeData] = _list()
    frais_restants: str = ""
    code_perimetre_recrutement: str = ""
    infos_perimetre_recrutement: str = ""
    prix_horaire_ttc: Decimal | None = None
    prix_total_ttc: Decimal | None = None
    duree_indicative: str = ""
    nombre_heures_centre: int | None = None
    nombre_heures_entreprise: int | None = None
    nombre_heures_total: int | None = None
    detail_conditions_prise_en_charge: str = ""
    conventionnement: bool | None = None
    duree_conventionnee: int | None = None
    organismes_formateurs: list[OrganismeFormateurData] = _list()
    financeurs: list[FinanceurData] = _list()
    attributs: dict = _dict()
    ofeli: dict[str, str] = _dict()
    extras: list[dict] = _list()
    autres: list[dict] = _list()
    ligne: int | None = None


@dataclasses.dataclass
class FormationData:
    numero: str = ""
    datecrea: datetime.date | None = None
    datemaj: datetime.date | None = None
    version: str = "2.3"
    formacodes: list[CodeData] = _list()
    nsf: list[str] = _list()
    romes: list[CodeData] = _list()
    intitule: str = ""
    objectif: str = ""
    resultats_attendus: str = ""
    contenu: str = ""
    certifiante: bool = False
    contacts: list[ContactData] = _list()
    parcours: int | None = None
    niveau_entree: int | None = None
    objectif_general: int | None = None
    certifications: list[dict[str, str]] = _list()  # [{"RNCP": "RNCP35320"}, {"RS": "RS5432"}]
    niveau_sortie: int | None = None
    url: list[str] = _list()
    actions: list[ActionData] = _list()
    organisme: OrganismeData | None = None
    identifiant_module: str = ""
    attributs: dict = _dict()
    ofeli: dict[str, str] = _dict()
    extras: list[dict] = _list()
    autres: list[dict] = _list()
    ligne: int | None = None


# --- parsing ----------------------------------------------------------------------------------------------


def _local(element) -> str:
    return etree.QName(element).localname


def _text(element) -> str:
    return (element.text or "").strip()


def _int(element) -> int | None:
    text = _text(element)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise LheoError(f"« {text} » n'est pas un nombre entier ({_local(element)})", element.sourceline) from None


def _bool(element) -> bool:
    return _text(element) == "1"


def _decimal(element) -> Decimal | None:
    text = _text(element).replace(",", ".").replace("€", "").replace(" ", "")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise LheoError(f"prix « {_text(element)} » illisible ({_local(element)})", element.sourceline) from None


def _code(element) -> CodeData:
    return CodeData(_text(element), element.get("ref", ""), element.get("tag", ""))


def _urlwebs(element) -> list[str]:
    return [_text(child) for child in element if isinstance(child.tag, str) and _local(child) == "urlweb"]


def _numtels(element) -> list[str]:
    return [_text(child) for child in element if isinstance(child.tag, str) and _local(child) == "numtel"]


def _first_child_text(element) -> str:
    for child in element:
        if isinstance(child.tag, str) and _local(child) != "extras":
            return _text(child)
    return ""


def _fill(obj, element, spec: dict) -> None:
    """Dispatches the children of `element` to the fields of `obj` by `spec` {lheo name: (field, convert)}.

    A list field gets each occurrence appended. extras go to `obj.extras` (OFeli's own to `obj.ofeli`), other
    unknown elements to `obj.autres`.
    """
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        if name == "extras":
            if child.get("info") == OFELI_INFO and hasattr(obj, "ofeli"):
                obj.ofeli.update(ofeli_values(child))
            else:
                obj.extras.append(node_from_element(child))
            continue
        entry = spec.get(name)
        if entry is None:
            obj.autres.append(node_from_element(child))
            continue
        field, convert = entry
        value = convert(child)
        if field is None:  # the converter filled `obj` itself
            continue
        current = getattr(obj, field)
        if isinstance(current, list) and not isinstance(value, list):
            current.append(value)
        else:
            setattr(obj, field, value)


def _adresse(element) -> AdresseData:
    data = AdresseData()
    _fill(
        data,
        element,
        {
            "denomination": ("denomination", _text),
            "ligne": ("lignes", _text),
            "codepostal": ("codepostal", _text),
            "ville": ("ville", _text),
            "departement": ("departement", _text),
            "code-INSEE-commune": ("code_insee", _text),
            "code-INSEE-canton": ("code_canton", _text),
            "region": ("region", _text),
            "pays": ("pays", _text),
            "geolocalisation": (None, _geolocalisation(data)),
        },
    )
    return data


def _geolocalisation(data: AdresseData):
    def convert(element):
        for child in element:
            if isinstance(child.tag, str) and _local(child) == "longitude":
                data.longitude = _text(child)
            elif isinstance(child.tag, str) and _local(child) == "latitude":
                data.latitude = _text(child)

    return convert


def _child_adresse(element) -> AdresseData | None:
    for child in element:
        if isinstance(child.tag, str) and _local(child) == "adresse":
            return _adresse(child)
    return None


def _coordonnees(element) -> CoordonneesData:
    data = CoordonneesData()
    _fill(
        data,
        element,
        {
            "civilite": ("civilite", _text),
            "nom": ("nom", _text),
            "prenom": ("prenom", _text),
            "ligne": ("lignes", _text),
            "adresse": ("adresse", _adresse),
            "telfixe": ("telfixe", _numtels),
            "portable": ("portable", _numtels),
            "fax": ("fax", _numtels),
            "courriel": ("courriel", _text),
            "web": ("web", _urlwebs),
        },
    )
    return data


def _child_coordonnees(element) -> CoordonneesData | None:
    for child in element:
        if isinstance(child.tag, str) and _local(child) == "coordonnees":
            return _coordonnees(child)
    return None


def _contact(element) -> ContactData:
    data = ContactData(tag=element.get("tag", ""))
    _fill(data, element, {"type-contact": ("type_contact", _text), "coordonnees": ("coordonnees", _coordonnees)})
    return data


def _lieu(element) -> LieuData:
    data = LieuData()
    _fill(
        data,
        element,
        {
            "SIRET-lieu-formation": ("siret", _first_child_text),
            "code-UAI-lieu-formation": ("code_uai", _first_child_text),
            "coordonnees": ("coordonnees", _coordonnees),
        },
    )
    return data


def _potentiel(element) -> list[CodeData]:
    return [_code(c) for c in element if isinstance(c.tag, str) and _local(c) == "code-FORMACODE"]


def _organisme(element) -> OrganismeData:
    data = OrganismeData(numero=element.get("numero", ""), attributs=dict(element.attrib))
    _fill(
        data,
        element,
        {
            "numero-activite": ("nda", _text),
            "SIRET-organisme-formation": ("siret", _first_child_text),
            "nom-organisme": ("nom", _text),
            "raison-sociale": ("raison_sociale", _text),
            "coordonnees-organisme": ("coordonnees", _child_coordonnees),
            "contact-organisme": ("contacts", _contact),
            "renseignements-specifiques": ("renseignements_specifiques", _text),
            "potentiel": ("potentiel", _potentiel),
            "code-UAI-organisme-formation": ("code_uai", _first_child_text),
        },
    )
    return data


def _formateur(element) -> OrganismeFormateurData:
    data = OrganismeFormateurData(attributs=dict(element.attrib))
    _fill(
        data,
        element,
        {
            "SIRET-formateur": ("siret", _first_child_text),
            "raison-sociale-formateur": ("raison_sociale", _text),
            "contact-formateur": ("contacts", _contact),
            "code-UAI-formateur": ("code_uai", _first_child_text),
        },
    )
    return data


def _financeur(element) -> FinanceurData:
    data = FinanceurData()
    _fill(data, element, {"code-financeur": ("code", _text), "nb-places-financees": ("nb_places", _int)})
    return data


def _reference_certification(element) -> dict[str, str]:
    result = {}
    for child in element:
        if isinstance(child.tag, str) and _local(child).startswith("reference-code-"):
            result[_local(child).removeprefix("reference-code-")] = _text(child)
    return result


def _blocs(element) -> BlocsCompetencesData:
    data = BlocsCompetencesData()
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        if name == "validation-blocs":
            data.validation = _text(child)
        elif name == "reference-certification":
            data.certification = _reference_certification(child)
        elif name == "bloc-competences":
            bloc = BlocData()
            for item in child:
                if isinstance(item.tag, str) and _local(item) == "code-bloc":
                    bloc.code = _text(item)
                elif isinstance(item.tag, str) and _local(item) == "libelle-bloc":
                    bloc.libelle = _text(item)
            data.blocs.append(bloc)
        elif name == "extras":
            data.extras.append(node_from_element(child))
    return data


def _periode(element) -> tuple[DateLheo | None, DateLheo | None]:
    debut = fin = None
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if _local(child) == "debut":
            debut = parse_date_lheo(_text(child), line=child.sourceline)
        elif _local(child) == "fin":
            fin = parse_date_lheo(_text(child), fin=True, line=child.sourceline)
    return debut, fin


def _session(element) -> SessionData:
    data = SessionData(
        numero=element.get("numero", ""),
        datecrea=parse_datecrea(element.get("datecrea")),
        datemaj=parse_datecrea(element.get("datemaj")),
        attributs=dict(element.attrib),
        ligne=element.sourceline,
    )

    def periode(child):
        data.debut, data.fin = _periode(child)

    def periode_inscription(child):
        for item in child:
            if isinstance(item.tag, str) and _local(item) == "periode":
                data.inscription_debut, data.inscription_fin = _periode(item)

    _fill(
        data,
        element,
        {
            "periode": (None, periode),
            "adresse-inscription": ("adresse_inscription", _child_adresse),
            "modalites-inscription": ("modalites_inscription", _text),
            "periode-inscription": (None, periode_inscription),
            "etat-recrutement": ("etat_recrutement", _int),
            "url-session": ("url", _urlwebs),
            "contact-session": ("contacts", _contact),
            "reference-certification": ("references_certification", _reference_certification),
            "blocs-competences": ("blocs_competences", _blocs),
        },
    )
    if data.debut is None or data.fin is None:
        raise LheoError("session sans période (début et fin obligatoires)", element.sourceline)
    return data


def _action(element) -> ActionData:
    data = ActionData(
        numero=element.get("numero", ""),
        datecrea=parse_datecrea(element.get("datecrea")),
        datemaj=parse_datecrea(element.get("datemaj")),
        attributs=dict(element.attrib),
        ligne=element.sourceline,
    )
    _fill(
        data,
        element,
        {
            "rythme-formation": ("rythme", _text),
            "code-public-vise": ("publics_vises", _code),
            "info-public-vise": ("info_public_vise", _text),
            "niveau-entree-obligatoire": ("niveau_entree_obligatoire", _bool),
            "modalites-alternance": ("modalites_alternance", _text),
            "modalites-enseignement": ("modalites_enseignement", _int),
            "conditions-specifiques": ("conditions_specifiques", _text),
            "prise-en-charge-frais-possible": ("prise_en_charge_frais_possible", _bool),
            "lieu-de-formation": ("lieux", _lieu),
            "modalites-entrees-sorties": ("entree_sortie_permanente", _bool),
            "url-action": ("url", _urlwebs),
            "duree-cycle": ("duree_cycle", _int),
            "session": ("sessions", _session),
            "adresse-information": ("adresse_information", _child_adresse),
            "restauration": ("restauration", _text),
            "hebergement": ("hebergement", _text),
            "transport": ("transport", _text),
            "acces-handicapes": ("acces_handicapes", _text),
            "langue-formation": ("langues", _text),
            "modalites-recrutement": ("modalites_recrutement", _text),
            "modalites-pedagogiques": ("modalites_pedagogiques", _text),
            "code-modalite-pedagogique": ("codes_modalites_pedagogiques", _code),
            "frais-restants": ("frais_restants", _text),
            "code-perimetre-recrutement": ("code_perimetre_recrutement", _text),
            "infos-perimetre-recrutement": ("infos_perimetre_recrutement", _text),
            "prix-horaire-TTC": ("prix_horaire_ttc", _decimal),
            "prix-total-TTC": ("prix_total_ttc", _decimal),
            "duree-indicative": ("duree_indicative", _text),
            "nombre-heures-centre": ("nombre_heures_centre", _int),
            "nombre-heures-entreprise": ("nombre_heures_entreprise", _int),
            "nombre-heures-total": ("nombre_heures_total", _int),
            "detail-conditions-prise-en-charge": ("detail_conditions_prise_en_charge", _text),
            "conventionnement": ("conventionnement", _bool),
            "duree-conventionnee": ("duree_conventionnee", _int),
            "organisme-formateur": ("organismes_formateurs", _formateur),
            "organisme-financeur": ("financeurs", _financeur),
        },
    )
    return data


def _domaine(data: FormationData):
    def convert(element):
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = _local(child)
            if name == "code-FORMACODE":
                data.formacodes.append(_code(child))
            elif name == "code-NSF":
                data.nsf.append(_text(child))
            elif name == "code-ROME":
                data.romes.append(_code(child))
            elif name == "extras":
                data.extras.append(node_from_element(child))

    return convert


def _certification(element) -> dict[str, str]:
    result = {}
    for child in element:
        if isinstance(child.tag, str) and _local(child).startswith("code-"):
            result[_local(child).removeprefix("code-")] = _text(child)
        elif isinstance(child.tag, str) and _local(child) == "reference-code-FORMACODE":
            result["FORMACODE"] = _text(child)
    return result


def formation_from_element(element, *, version: str = "2.3") -> FormationData:
    """A <formation> element (2.2 or 2.3 namespace) as FormationData."""
    data = FormationData(
        numero=element.get("numero", ""),
        datecrea=parse_datecrea(element.get("datecrea")),
        datemaj=parse_datecrea(element.get("datemaj")),
        version=version,
        attributs=dict(element.attrib),
        ligne=element.sourceline,
    )
    _fill(
        data,
        element,
        {
            "domaine-formation": (None, _domaine(data)),
            "intitule-formation": ("intitule", _text),
            "objectif-formation": ("objectif", _text),
            "resultats-attendus": ("resultats_attendus", _text),
            "contenu-formation": ("contenu", _text),
            "certifiante": ("certifiante", _bool),
            "contact-formation": ("contacts", _contact),
            "parcours-de-formation": ("parcours", _int),
            "code-niveau-entree": ("niveau_entree", _int),
            "objectif-general-formation": ("objectif_general", _int),
            "certification": ("certifications", _certification),
            "code-niveau-sortie": ("niveau_sortie", _int),
            "url-formation": ("url", _urlwebs),
            "action": ("actions", _action),
            "organisme-formation-responsable": ("organisme", _organisme),
            "identifiant-module": ("identifiant_module", _text),
        },
    )
    return data


def lire_formations(source) -> Iterator[FormationData]:
    """Streams the formations of an LHEO file (path or binary file object).

    Raises LheoError (French, with the line) on a file that is not XML, declares a DOCTYPE, is not in an LHEO
    namespace, or holds unreadable values (dates, numbers).
    """
    tags = tuple(f"{{{ns}}}formation" for ns in NAMESPACES) + ("{*}lheo",)
    seen_root = False
    for event, element in safe_iterparse(source, events=("start", "end"), tag=("{*}formation", "{*}lheo")):
        namespace = etree.QName(element).namespace
        if event == "start":
            if not seen_root:
                seen_root = True
                root = element.getroottree().getroot()
                root_ns = etree.QName(root).namespace
                if root_ns not in NAMESPACES:
                    raise LheoError(
                        f"espace de noms « {root_ns or 'aucun'} » inconnu : un fichier LHEO déclare "
                        f'xmlns="{NS_23}" (LHEO 2.3) ou xmlns="{NS_22}" (LHEO 2.2)',
                        root.sourceline,
                    )
            continue
        if element.tag not in tags or _local(element) != "formation":
            continue
        yield formation_from_element(element, version=NAMESPACES[namespace])
        element.clear(keep_tail=False)
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]
    if not seen_root:
        raise LheoError("aucun élément LHEO trouvé : la racine doit être <lheo>")
