"""Writes the offer as LHEO 2.3 XML, valid against the official XSD (schema/lheo.xsd).

Two layers, so that the working tables and the validated offer (publications) share one renderer:

- ``formation_element(formation)`` / ``formation_fragment(formation) -> bytes`` render ONE formation, with its
  actions and sessions, from the working tables (offre.Formation > Action > Session). A publication stores the
  fragment of the formation it validated.
- ``iter_document(items)`` (byte chunks, for a streamed HTTP response) and ``write_document(output, items)``
  stream a whole ``<lheo><offres>…</offres></lheo>`` document from an iterable of fragments (bytes) or
  elements, one at a time, with lxml.etree.xmlfile; ``write_formations(output, source)`` does it from a
  queryset (or ids) loaded in chunks with a fixed number of queries per chunk, so memory stays bounded
  whatever the size.
- The full export (``write_formations``, ``iter_formation_fragments``) renders from plain rows with text
  templates (``_Rendu``) rather than model instances and lxml elements: about three times faster, and byte for
  byte what ``formation_element`` writes (the tests compare both). ``iter_formations`` still hands out model
  instances, for the publications' fragments, the Excel export and the spreadsheet model.

Elements follow the order of the XSD sequences; empty optional elements are left out.

Identifiers: the Carif numbers (Formation/Action/Session.numero) are the ``@numero``; an item not yet numbered
gets a stable internal identifier ``OFELI-F<id>``, ``OFELI-A<id>``, ``OFELI-S<id>`` (``OFELI-O<id>`` for an
organisme without Carif number), which can never collide with a Carif number.

Fallbacks for mandatory LHEO fields empty in the data (LHEO requires them, OFeli may lack them, typically on
imported or draft data), all in ``FALLBACKS``:

- text fields (intitulé, objectif, résultats attendus, contenu, rythme): "Non renseigné";
- ``modalites-alternance``: "Sans objet"; ``conditions-specifiques``: "Aucune" (the LHEO documentation's word);
- ``code-public-vise``: 83056 "Tout public";
- ``contact-formation`` without any contact linked: the organisme's own coordinates (address, phone, e-mail);
- ``contact-organisme``: always the organisme's own phone and e-mail (no personal data);
- ``numero-activite`` (NDA) missing: "00000000000"; SIRET not 14 characters: "00000000000000";
- ``adresse-inscription`` without address: the action's first lieu, else the organisme's address; an address
  missing its street, postcode or town gets "Adresse non renseignée", "00000", "Non renseignée".

Texts are cut to the XSD length (ending with "…") and stripped of characters XML cannot carry.
A formation without any session cannot be written (LHEO requires ≥ 1 action with ≥ 1 session): it raises
``FormationIncomplete``; the document writers skip it and count it.
"""

import contextlib
import dataclasses
import datetime
import gc
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from lxml import etree

from . import FORMACODE_VERSION, NS_23
from .extras import OFELI_INFO, append_node, stored_nodes
from .text import _INVALID_XML, clean_text, date_lheo, fit, price_lheo

NS = NS_23
NSMAP = {None: NS}

FALLBACKS = {
    "texte": "Non renseigné",
    "modalites-alternance": "Sans objet",
    "conditions-specifiques": "Aucune",
    "code-public-vise": "83056",
    "numero-activite": "00000000000",
    "SIRET": "00000000000000",
    "ligne": "Adresse non renseignée",
    "codepostal": "00000",
    "ville": "Non renseignée",
}

DEFAULT_CHUNK_SIZE = 500

_TAGS: dict[str, str] = {}


def _q(name: str) -> str:
    tag = _TAGS.get(name)
    if tag is None:
        tag = _TAGS[name] = f"{{{NS}}}{name}"
    return tag


_SubElement = etree.SubElement


def _sub(parent, name: str, text: str = "", **attrs):
    tag = _TAGS.get(name) or _q(name)
    element = _SubElement(parent, tag, attrs) if attrs else _SubElement(parent, tag)
    if text:
        element.text = text
    return element


def _copie(parent, obj, key, build) -> None:
    """Appends to `parent` a copy of the block `build(holder)` renders for `obj` (rendered once per instance).

    Organismes, lieux and contacts are shared by many formations of an export (the loader hands out one
    instance per row): their blocks are built once and copied (a C-level deep copy, much cheaper than building
    the elements again in Python). The cache lives on the instance, so it never outlives the data it reflects.
    """
    cache = obj.__dict__.get("_lheo_blocs")
    if cache is None:
        cache = obj.__dict__["_lheo_blocs"] = {}
    block = cache.get(key)
    if block is None:
        holder = etree.Element("_")
        build(holder)
        block = cache[key] = list(holder)
    for element in block:
        parent.append(element.__copy__())  # lxml copies the whole subtree


def _opt(parent, name: str, value, max_length: int, min_length: int = 1):
    """An optional text element: written only when the value is long enough once cleaned."""
    text = fit(value, max_length)
    if len(text) >= min_length:
        _sub(parent, name, text)


def _req(parent, name: str, value, max_length: int, fallback: str | None = None):
    """A mandatory text element: the fallback replaces an empty value."""
    text = fit(value, max_length) or (fallback if fallback is not None else FALLBACKS["texte"])
    _sub(parent, name, text)


def _exact(value, length: int) -> str:
    text = clean_text(value)
    return text if len(text) == length else ""


class FormationIncomplete(ValueError):
    """LHEO cannot express this formation: it has no action with a session."""


# --- identifiers ------------------------------------------------------------------------------------------


def numero_formation(formation) -> str:
    return formation.numero or f"OFELI-F{formation.pk}"


def numero_action(action) -> str:
    return action.numero or f"OFELI-A{action.pk}"


def numero_session(session) -> str:
    return session.numero or f"OFELI-S{session.pk}"


def numero_organisme(organisme) -> str:
    return organisme.numero or f"OFELI-O{organisme.pk}"


def related(obj, name: str) -> list:
    """obj.<name>.all(), read straight from the prefetch cache when it is filled (no manager built)."""
    cache = getattr(obj, "_prefetched_objects_cache", None)
    if cache is not None and name in cache:
        return cache[name]
    return list(getattr(obj, name).all())


def _jour(value: datetime.datetime | None, tz=None) -> str:
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(tz or timezone.get_current_timezone())
    return date_lheo(value.date())


def _dates(element, obj, tz=None) -> None:
    if crea := _jour(getattr(obj, "created_at", None), tz):
        element.set("datecrea", crea)
    if maj := _jour(getattr(obj, "updated_at", None), tz):
        element.set("datemaj", maj)


# --- shared blocks ----------------------------------------------------------------------------------------


def _adresse_complete(obj) -> bool:
    return bool(clean_text(obj.ligne1) and _exact(obj.code_postal, 5) and clean_text(obj.ville))


def _adresse(parent, obj, *, denomination: str = "", required: bool = False) -> None:
    """<adresse> from an organismes.Adresse (Organisme or Lieu); with fallbacks when `required`."""
    if not required and (obj is None or not _adresse_complete(obj)):
        return
    adresse = _sub(parent, "adresse")
    _opt(adresse, "denomination", denomination, 255)
    ligne1 = fit(getattr(obj, "ligne1", ""), 50) or FALLBACKS["ligne"]
    _sub(adresse, "ligne", ligne1)
    _opt(adresse, "ligne", getattr(obj, "ligne2", ""), 50)
    _sub(adresse, "codepostal", _exact(getattr(obj, "code_postal", ""), 5) or FALLBACKS["codepostal"])
    _sub(adresse, "ville", fit(getattr(obj, "ville", ""), 50) or FALLBACKS["ville"])
    if obj is None:
        return
    departement = clean_text(obj.departement)
    if 2 <= len(departement) <= 3:
        _sub(adresse, "departement", departement)
    if code_insee := _exact(obj.code_insee, 5):
        _sub(adresse, "code-INSEE-commune", code_insee)
    if region := _exact(obj.region, 2):
        _sub(adresse, "region", region)
    if pays := _exact(obj.pays, 2):
        _sub(adresse, "pays", pays.upper())


def _telephone(parent, name: str, numero) -> None:
    if numero := fit(numero, 25):
        _sub(_sub(parent, name), "numtel", numero)


def _courriel(parent, email) -> None:
    email = clean_text(email)
    if 3 <= len(email) <= 160:
        _sub(parent, "courriel", email)


def _web(parent, url) -> None:
    url = clean_text(url)
    if 3 <= len(url) <= 400:
        _sub(_sub(parent, "web"), "urlweb", url)


def _coordonnees_personne(parent, contact) -> None:
    """<coordonnees> of an OF contact (organismes.Contact, its user's name, phone, e-mail)."""
    user = contact.user
    coordonnees = _sub(parent, "coordonnees")
    if user.civilite:
        _sub(coordonnees, "civilite", user.get_civilite_display())
    _opt(coordonnees, "nom", user.last_name, 50)
    _opt(coordonnees, "prenom", user.first_name, 50)
    _telephone(coordonnees, "telfixe", user.telephone)
    _courriel(coordonnees, user.email)


def _coordonnees_organisme(parent, organisme, *, avec_adresse: bool = True) -> None:
    coordonnees = _sub(parent, "coordonnees")
    if avec_adresse:
        _adresse(coordonnees, organisme)
    _telephone(coordonnees, "telfixe", organisme.telephone)
    _courriel(coordonnees, organisme.email)
    _web(coordonnees, organisme.site_web)


_EXTRAS_RENDUS: dict[tuple, object] = {}  # OFeli's extras blocks already built, by their values (few distinct)


def _ofeli_extras(parent, values: dict) -> None:
    key = tuple(values.items())
    block = _EXTRAS_RENDUS.get(key)
    if block is None:
        values = {k: v for k, v in values.items() if v not in (None, "")}
        if values:
            block = etree.Element(_q("extras"), info=OFELI_INFO)
            for info, value in values.items():
                _sub(block, "extra", clean_text(value), info=info)
        else:
            block = False
        if len(_EXTRAS_RENDUS) > 10_000:  # bounded: numéros de marché and place counts vary
            _EXTRAS_RENDUS.clear()
        _EXTRAS_RENDUS[key] = block
    if block is not False:
        parent.append(block.__copy__())


def _stored_extras(parent, obj) -> None:
    for node in stored_nodes(obj):
        append_node(parent, node, NS)


# --- formation > action > session -------------------------------------------------------------------------


def _session(parent, session, action, formation, tz=None) -> None:
    element = _sub(parent, "session", numero=numero_session(session))
    _dates(element, session, tz)
    periode = _sub(element, "periode")
    _sub(periode, "debut", date_lheo(session.debut))
    _sub(periode, "fin", date_lheo(session.fin, unknown="99999999"))

    adresse = session.adresse_inscription if session.adresse_inscription_id is not None else None
    if adresse is None:
        lieux = related(action, "lieux")
        adresse = lieux[0] if lieux else formation.organisme
    denomination = getattr(adresse, "denomination", "")
    _copie(
        _sub(element, "adresse-inscription"),
        adresse,
        ("adresse-inscription", denomination),
        lambda holder: _adresse(holder, adresse, denomination=denomination, required=True),
    )
    _opt(element, "modalites-inscription", session.modalites_inscription, 255)
    if session.inscription_debut or session.inscription_fin:
        periode = _sub(_sub(element, "periode-inscription"), "periode")
        _sub(periode, "debut", date_lheo(session.inscription_debut))
        _sub(periode, "fin", date_lheo(session.inscription_fin, unknown="99999999"))
    if session.etat_recrutement:
        _sub(element, "etat-recrutement", str(session.etat_recrutement))
    if len(url := fit(session.url, 400)) >= 3:
        _sub(_sub(element, "url-session"), "urlweb", url)
    for session_contact in related(session, "session_contacts"):
        contact = _sub(element, "contact-session", tag=session_contact.role)
        _coordonnees_personne(contact, session_contact.contact)

    blocs_par_certification = defaultdict(list)
    for bloc in related(session, "blocs"):
        if 8 <= len(bloc.code) <= 40:
            blocs_par_certification[bloc.certification].append(bloc)
    for certification, blocs in blocs_par_certification.items():
        element_blocs = _sub(element, "blocs-competences")
        _sub(element_blocs, "validation-blocs", "0")  # partielle: the session prepares some blocks
        reference = _sub(element_blocs, "reference-certification")
        name = "reference-code-RS" if certification.type == "RS" else "reference-code-RNCP"
        _sub(reference, name, fit(certification.code, 10))
        for bloc in blocs:
            item = _sub(element_blocs, "bloc-competences")
            _req(item, "libelle-bloc", bloc.libelle, 500)
            _sub(item, "code-bloc", bloc.code)

    _ofeli_extras(
        element,
        {
            "etat": session.etat,
            "places-restantes": "" if session.places_restantes is None else str(session.places_restantes),
            "places-date": date_lheo(session.places_date) if session.places_date else "",
        },
    )
    _stored_extras(element, session)


def _financeurs(action) -> list[tuple[str, str]]:
    return _financeurs_de(action.financeurs)


def _financeurs_de(financeurs) -> list[tuple[str, str]]:
    result = []
    for item in financeurs or []:
        if isinstance(item, dict):
            code, places = item.get("code"), item.get("nb_places")
        else:
            code, places = item, None
        if code in (None, ""):
            continue
        result.append((clean_text(code), "" if places in (None, "") else str(int(places))))
    return result[:8]


def _lieu_de_formation(parent, lieu) -> None:
    lieu_element = _sub(parent, "lieu-de-formation")
    if siret := _exact(lieu.siret, 14):
        _sub(_sub(lieu_element, "SIRET-lieu-formation"), "SIRET", siret)
    coordonnees = _sub(lieu_element, "coordonnees")
    _adresse(coordonnees, lieu, denomination=lieu.denomination, required=True)
    _telephone(coordonnees, "telfixe", lieu.telephone)
    _courriel(coordonnees, lieu.email)


def _action(parent, action, formation, sessions, tz=None) -> None:
    element = _sub(parent, "action", numero=numero_action(action))
    _dates(element, action, tz)
    _req(element, "rythme-formation", action.rythme, 3000)
    publics = [p for p in (_exact(code, 5) for code in action.public_vise or []) if p][:10]
    for code in publics or [FALLBACKS["code-public-vise"]]:
        _sub(element, "code-public-vise", code, ref=FORMACODE_VERSION)
    _opt(element, "info-public-vise", action.info_public_vise, 250)
    _sub(element, "niveau-entree-obligatoire", "1" if action.niveau_entree_obligatoire else "0")
    _req(element, "modalites-alternance", action.modalites_alternance, 3000, FALLBACKS["modalites-alternance"])
    _sub(element, "modalites-enseignement", str(action.modalites_enseignement))
    _req(element, "conditions-specifiques", action.conditions_specifiques, 3000, FALLBACKS["conditions-specifiques"])
    _sub(element, "prise-en-charge-frais-possible", "1" if action.prise_en_charge_frais_possible else "0")
    for lieu in related(action, "lieux"):
        _copie(element, lieu, "lieu-de-formation", lambda holder, lieu=lieu: _lieu_de_formation(holder, lieu))
    _sub(element, "modalites-entrees-sorties", "1" if action.entree_sortie_permanente else "0")
    url = fit(action.url, 400)
    if len(url) >= 3:
        _sub(_sub(element, "url-action"), "urlweb", url)
    for session in sessions:
        _session(element, session, action, formation, tz)
    _opt(element, "acces-handicapes", action.acces_handicapes, 250)
    if langue := _exact(action.langue, 2):
        _sub(element, "langue-formation", langue.upper())
    _opt(element, "modalites-recrutement", action.modalites_recrutement, 3000)
    _opt(element, "modalites-pedagogiques", action.modalites_pedagogiques, 200)
    if prix := price_lheo(action.prix_horaire_ttc, 6):
        _sub(element, "prix-horaire-TTC", prix)
    if prix := price_lheo(action.prix_total_ttc, 10):
        _sub(element, "prix-total-TTC", prix)
    _opt(element, "duree-indicative", action.duree_indicative, 150)
    for name, value in (
        ("nombre-heures-centre", action.nombre_heures_centre),
        ("nombre-heures-entreprise", action.nombre_heures_entreprise),
        ("nombre-heures-total", action.nombre_heures_total),
    ):
        if value is not None:
            _sub(element, name, str(value))
    _opt(element, "detail-conditions-prise-en-charge", action.detail_conditions_prise_en_charge, 600)
    formateur = action.organisme_formateur if action.organisme_formateur_id is not None else None
    if formateur is not None and (siret := _exact(formateur.siret, 14)):
        _formateur(element, formateur, siret)
    for code, places in _financeurs(action):
        financeur = _sub(element, "organisme-financeur")
        _sub(financeur, "code-financeur", code)
        if places:
            _sub(financeur, "nb-places-financees", places)
    _ofeli_extras(
        element,
        {"dispositif": action.dispositif, "numero-marche": action.numero_marche, "etat": action.etat},
    )
    _stored_extras(element, action)


def _formateur(parent, formateur, siret: str) -> None:
    formateur_element = _sub(parent, "organisme-formateur")
    _sub(_sub(formateur_element, "SIRET-formateur"), "SIRET", siret)
    _sub(formateur_element, "raison-sociale-formateur", fit(formateur.raison_sociale, 250))


def _organisme(parent, organisme) -> None:
    element = _sub(parent, "organisme-formation-responsable", numero=numero_organisme(organisme))
    _sub(element, "numero-activite", _exact(organisme.nda, 11) or FALLBACKS["numero-activite"])
    _sub(_sub(element, "SIRET-organisme-formation"), "SIRET", _exact(organisme.siret, 14) or FALLBACKS["SIRET"])
    raison_sociale = fit(organisme.raison_sociale, 250) or FALLBACKS["texte"]
    _sub(element, "nom-organisme", fit(organisme.nom, 250) or raison_sociale)
    _sub(element, "raison-sociale", raison_sociale)
    _coordonnees_organisme(_sub(element, "coordonnees-organisme"), organisme)
    _coordonnees_organisme(_sub(element, "contact-organisme"), organisme, avec_adresse=False)
    _opt(element, "renseignements-specifiques", organisme.description, 3000)
    if uai := _exact(organisme.code_uai, 8):
        _sub(_sub(element, "code-UAI-organisme-formation"), "code-UAI", uai)


SessionFilter = Callable[[object], bool]


def formation_element(formation, *, session_filter: SessionFilter | None = None):
    """The <formation> element of one formation (lxml element in the LHEO 2.3 namespace).

    Every action and session is written, ended ones included, unless `session_filter` says otherwise (the
    validated offer writes only validated sessions). Actions left without a session are not written.
    Raises FormationIncomplete when no session remains.
    """
    actions = []
    for action in related(formation, "actions"):
        sessions = [s for s in related(action, "sessions") if session_filter is None or session_filter(s)]
        if sessions:
            actions.append((action, sessions))
    if not actions:
        raise FormationIncomplete(f"La formation « {formation} » n'a aucune session : LHEO en exige au moins une.")

    tz = timezone.get_current_timezone()
    element = etree.Element(_q("formation"), nsmap=NSMAP)
    element.set("numero", numero_formation(formation))
    _dates(element, formation, tz)
    domaine = _sub(element, "domaine-formation")
    for formacode in related(formation, "formacodes")[:5]:
        _sub(domaine, "code-FORMACODE", formacode.code, ref=formacode.version or FORMACODE_VERSION)
    for nsf in related(formation, "nsf")[:3]:
        _sub(domaine, "code-NSF", nsf.code)
    for rome in related(formation, "romes")[:5]:
        _sub(domaine, "code-ROME", rome.code)
    _req(element, "intitule-formation", formation.intitule, 255)
    _req(element, "objectif-formation", formation.objectif, 3000)
    _req(element, "resultats-attendus", formation.resultats_attendus, 3000)
    _req(element, "contenu-formation", formation.contenu, 3000)
    _sub(element, "certifiante", "1" if formation.certifiante else "0")
    contacts = related(formation, "contacts")
    organisme = formation.organisme
    for contact in contacts:
        _copie(
            element,
            contact,
            "contact-formation",
            lambda holder, contact=contact: _coordonnees_personne(_sub(holder, "contact-formation"), contact),
        )
    if not contacts:
        _copie(
            element,
            organisme,
            "contact-formation",
            lambda holder: _coordonnees_organisme(_sub(holder, "contact-formation"), organisme),
        )
    _sub(element, "parcours-de-formation", str(formation.parcours))
    _sub(element, "code-niveau-entree", str(formation.niveau_entree))
    if formation.objectif_general is not None:
        _sub(element, "objectif-general-formation", str(formation.objectif_general))
    for certification in related(formation, "certifications")[:5]:
        code = fit(certification.code, 10)
        name = "code-RS" if certification.type == "RS" else "code-RNCP"
        if len(code) >= (3 if name == "code-RS" else 1):
            _sub(_sub(element, "certification"), name, code)
    if formation.niveau_sortie is not None:
        _sub(element, "code-niveau-sortie", str(formation.niveau_sortie))
    url = fit(formation.url, 400)
    if len(url) >= 3:
        _sub(_sub(element, "url-formation"), "urlweb", url)
    for action, sessions in actions:
        _action(element, action, formation, sessions, tz)
    _copie(element, organisme, "organisme-formation-responsable", lambda holder: _organisme(holder, organisme))
    _ofeli_extras(element, {"source": formation.source, "etat": formation.etat})
    _stored_extras(element, formation)
    return element


def formation_fragment(formation, *, session_filter: SessionFilter | None = None, pretty: bool = True) -> bytes:
    """One formation as UTF-8 bytes (``<formation xmlns="http://lheo.gouv.fr/2.3" …>…</formation>``).

    What a publication stores; ``write_document`` streams such fragments into a document.
    """
    return etree.tostring(
        formation_element(formation, session_filter=session_filter), encoding="utf-8", pretty_print=pretty
    )


# --- fetching in chunks -----------------------------------------------------------------------------------


def _batched(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _parmi(queryset, column: str, ids) -> QuerySet:
    """`queryset` restricted to rows whose `column` is one of `ids`.

    One parameter whatever the number of ids (``_dans``: an array on PostgreSQL, a JSON list on SQLite) instead
    of ``IN (%s, %s, …)`` with one parameter per id: building, preparing and binding thousands of parameters per
    chunk costs more than the query itself.
    """
    ids = list(ids)
    if connection.vendor in ("postgresql", "sqlite"):
        qn = connection.ops.quote_name
        where, params = _dans(f"{qn(queryset.model._meta.db_table)}.{qn(column)}", ids)
        return queryset.extra(where=[where], params=params)  # noqa: S610  # nosec B610  # names from the model, ids bound
    return queryset.filter(**{f"{column}__in": ids})


class _Referentiels:
    """Rows shared by many formations, read once per export as they are met: referentials (Formacode, NSF,
    ROME, certifications, blocs) and the organismes, their lieux and formateurs. Bounded by the number of
    distinct rows met, not by the number of formations."""

    def __init__(self):
        self.cache: dict = defaultdict(dict)

    def get(self, model, ids) -> dict:
        cache = self.cache[model]
        missing = [i for i in ids if i not in cache]
        if missing:
            queryset = model.objects.all()
            if model._meta.model_name == "bloccompetences":
                queryset = queryset.select_related("certification")
            elif model._meta.label == "organismes.Contact":
                queryset = queryset.select_related("user")
            column = model._meta.pk.column
            for start in range(0, len(missing), 900):
                cache.update((obj.pk, obj) for obj in _parmi(queryset, column, missing[start : start + 900]))
        return cache


def _m2m(model, field_name: str, ids: list, referentiels: _Referentiels, order) -> dict[int, list]:
    """{source id: [target objects]} of a many-to-many field, from its through table (one query)."""
    field = model._meta.get_field(field_name)
    through = field.remote_field.through
    source = field.m2m_field_name() + "_id"
    target = field.m2m_reverse_field_name() + "_id"
    links = list(_parmi(through.objects.all(), source, ids).values_list(source, target))
    objects = referentiels.get(field.related_model, {t for _, t in links})
    result = defaultdict(list)
    for source_id, target_id in links:
        if (obj := objects.get(target_id)) is not None:
            result[source_id].append(obj)
    for values in result.values():
        values.sort(key=order)
    return result


def _load_chunk(ids: list, referentiels: _Referentiels) -> list:
    """The formations of `ids` with everything the renderer reads, in a fixed number of queries.

    Related objects are put straight in each instance's field cache (what the foreign key's descriptor does
    once its checks are passed): the ids already match, and the descriptor's checks cost more than the rest.

    Django's prefetch_related builds one queryset per object and relation, which dominates a large export;
    here each relation is one query (values for the many-to-many links, referentials from memory) and the
    results are put in the same per-instance cache prefetch_related fills, so ``formation.actions.all()`` and
    the others read them without a query.
    """
    from ofeli.offre.models import Action, Formation, Session, SessionContact
    from ofeli.organismes.models import Contact, Lieu, Organisme, OrganismeFormateur

    formations = list(_parmi(Formation.objects.all(), "id", ids).order_by("pk"))
    organismes = referentiels.get(Organisme, {f.organisme_id for f in formations})
    for formation in formations:
        formation._state.fields_cache["organisme"] = organismes[formation.organisme_id]
    formacodes = _m2m(Formation, "formacodes", ids, referentiels, lambda o: o.code)
    nsf = _m2m(Formation, "nsf", ids, referentiels, lambda o: o.code)
    romes = _m2m(Formation, "romes", ids, referentiels, lambda o: o.code)
    certifications = _m2m(Formation, "certifications", ids, referentiels, lambda o: o.code)
    contact_links = _parmi(Formation.contacts.through.objects.all(), "formation_id", ids).values_list(
        "formation_id", "contact_id"
    )
    contact_links = list(contact_links)
    contacts_by_id = {
        c.pk: c for c in Contact.objects.filter(pk__in={c for _, c in contact_links}).select_related("user")
    }
    contacts = defaultdict(list)
    for formation_id, contact_id in sorted(contact_links):
        contacts[formation_id].append(contacts_by_id[contact_id])

    actions = list(_parmi(Action.objects.all(), "formation_id", ids).order_by("id"))
    formateurs = referentiels.get(OrganismeFormateur, {a.organisme_formateur_id for a in actions} - {None})
    for action in actions:
        if action.organisme_formateur_id is not None:
            action._state.fields_cache["organisme_formateur"] = formateurs[action.organisme_formateur_id]
    action_ids = [a.pk for a in actions]
    lieu_links = list(
        _parmi(Action.lieux.through.objects.all(), "action_id", action_ids).values_list("action_id", "lieu_id")
    )
    lieux_by_id = referentiels.get(Lieu, {lieu for _, lieu in lieu_links})
    lieux = defaultdict(list)
    for action_id, lieu_id in lieu_links:
        lieux[action_id].append(lieux_by_id[lieu_id])
    for values in lieux.values():
        values.sort(key=lambda lieu: (lieu.ville, lieu.denomination, lieu.pk))

    sessions = list(_parmi(Session.objects.all(), "action_id", action_ids).order_by("debut", "id"))
    adresses = referentiels.get(Lieu, {s.adresse_inscription_id for s in sessions} - {None})
    for session in sessions:
        if session.adresse_inscription_id is not None:
            session._state.fields_cache["adresse_inscription"] = adresses[session.adresse_inscription_id]
    session_ids = [s.pk for s in sessions]
    blocs = _m2m(Session, "blocs", session_ids, referentiels, lambda o: o.code)
    session_contacts = defaultdict(list)
    for item in (
        _parmi(SessionContact.objects.all(), "session_id", session_ids).select_related("contact__user").order_by("id")
    ):
        session_contacts[item.session_id].append(item)
    sessions_by_action = defaultdict(list)
    for session in sessions:
        session._prefetched_objects_cache = {
            "blocs": blocs.get(session.pk, []),
            "session_contacts": session_contacts.get(session.pk, []),
        }
        sessions_by_action[session.action_id].append(session)

    by_formation = defaultdict(list)
    for action in actions:
        action._prefetched_objects_cache = {
            "sessions": sessions_by_action.get(action.pk, []),
            "lieux": lieux.get(action.pk, []),
        }
        for session in action._prefetched_objects_cache["sessions"]:
            session._state.fields_cache["action"] = action
        by_formation[action.formation_id].append(action)
    for formation in formations:
        formation._prefetched_objects_cache = {
            "actions": by_formation.get(formation.pk, []),
            "formacodes": formacodes.get(formation.pk, []),
            "nsf": nsf.get(formation.pk, []),
            "romes": romes.get(formation.pk, []),
            "certifications": certifications.get(formation.pk, []),
            "contacts": contacts.get(formation.pk, []),
        }
        for action in formation._prefetched_objects_cache["actions"]:
            action._state.fields_cache["formation"] = formation
    return formations


def _liberer(formations: list) -> None:
    """Breaks the reference cycles of a chunk once it is written (formation ↔ actions ↔ sessions), so that
    reference counting frees it at once instead of the cyclic collector, much later: memory stays one chunk's."""
    for formation in formations:
        for action in formation._prefetched_objects_cache.get("actions", ()):
            for session in action._prefetched_objects_cache.get("sessions", ()):
                session._prefetched_objects_cache = {}
                session._state.fields_cache.clear()
            action._prefetched_objects_cache = {}
            action._state.fields_cache.clear()
        formation._prefetched_objects_cache = {}
        formation._state.fields_cache.clear()


def iter_formations(source, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator:
    """Formations of `source` (a Formation queryset, or an iterable of formation ids), chunk by chunk, prefetched.

    A queryset is walked by primary key (keyset pagination), so the memory held is one chunk's whatever the
    total; its own ordering and annotations (a search ranking) are dropped. The related objects are loaded
    per chunk (``_load_chunk``): the instances yielded are for reading and rendering while the iteration is on
    their chunk, not for saving nor for keeping (their related objects are let go once the chunk is done).
    """
    referentiels = _Referentiels()
    for chunk in _iter_ids(source, chunk_size):
        formations = _load_chunk(chunk, referentiels)
        yield from formations
        _liberer(formations)


def _iter_ids(source, chunk_size: int) -> Iterator[list]:
    """The ids of `source` (queryset or ids) by sorted chunks; a queryset is walked by primary key (keyset
    pagination), its own ordering and annotations dropped."""
    if isinstance(source, QuerySet):
        ids = source.order_by().values_list("pk", flat=True)
        last = None
        while True:
            page = ids.filter(pk__gt=last) if last is not None else ids
            chunk = list(page.order_by("pk")[:chunk_size])
            if not chunk:
                return
            yield chunk
            last = chunk[-1]
    else:
        for chunk in _batched(source, chunk_size):
            yield sorted(chunk)


# --- the export of the working copy, rendered from rows ----------------------------------------------------
#
# A full export renders every formation once, straight from database rows, as text: one query per table and
# chunk returning plain tuples (no model instance for formations, actions and sessions), and the elements of a
# formation written with string templates instead of being built as lxml elements and serialised. What it
# writes is byte for byte what formation_element() gives once lxml has pretty-printed it (the tests compare
# both): same order, same escaping, same indentation. Blocks shared by many formations (organismes, lieux,
# contacts, formateurs, OFeli's extras) and the partners' stored extras are still built by the lxml functions
# above, once per distinct object, and reused as text at their depth. A formation the templates cannot write
# exactly (stored extras with mixed content, text XML cannot carry) goes through formation_element(), which
# writes it (or raises) as before.

_INDENT = "  "
_TEXTE_SPECIAL = re.compile("[&<>\r]")
_ATTR_SPECIAL = re.compile('[&<>"\n\r\t]')
# What `fit` removes (characters XML cannot carry) or `_esc` replaces (&, <, >, \r): a text without any of
# them is written as it is, stripped and cut.
_A_TRAITER = re.compile("[^\t\n\x20-\x25\x27-\x3b\x3d\x3f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Repli(Exception):
    """This formation is written by formation_element() instead of the templates."""


def _esc(text: str) -> str:
    """Text content escaped as libxml2 writes it (&, <, >, and carriage returns)."""
    if _TEXTE_SPECIAL.search(text) is None:
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _esc_attr(text: str) -> str:
    """An attribute value escaped as libxml2 writes it."""
    if _ATTR_SPECIAL.search(text) is None:
        return text
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _brut(value) -> str:
    """A value the lxml path writes without cleaning it (numbers, codes): lxml refuses what XML cannot carry."""
    if type(value) is int:
        return str(value)
    text = str(value)
    if _INVALID_XML.search(text) is not None:
        raise _Repli
    return text


def _el(indent: str, name: str, text: str, attrs: str = "") -> str:
    """One element holding escaped `text` (an empty one is written ``<name/>``, as lxml does without text)."""
    return f"{indent}<{name}{attrs}>{text}</{name}>\n" if text else f"{indent}<{name}{attrs}/>\n"


def _rendu_lxml(profondeur: int, build) -> str:
    """The text of the elements `build(parent)` appends, as lxml pretty-prints them `profondeur` levels deep in
    a <formation> (the formation's children are at depth 1).

    They are built under a chain of wrapper elements and serialised with them, then cut out: the indentation
    and escaping are lxml's own. Mixed content (text beside elements) changes the indentation of the whole
    parent: then the wrappers do not match and the formation is written by formation_element().
    """
    racine = parent = etree.Element(_q("_"), nsmap=NSMAP)
    for _ in range(profondeur - 1):
        parent = etree.SubElement(parent, _q("_"))
    build(parent)
    if len(parent) == 0 and not parent.text:
        return ""
    texte = etree.tostring(racine, encoding="unicode", pretty_print=True)
    debut = "".join(
        f"{_INDENT * i}<_{f' xmlns={chr(34)}{NS}{chr(34)}' if i == 0 else ''}>\n" for i in range(profondeur)
    )
    fin = "".join(f"{_INDENT * i}</_>\n" for i in reversed(range(profondeur)))
    if not (texte.startswith(debut) and texte.endswith(fin)) or len(texte) < len(debut) + len(fin):
        raise _Repli
    return texte[len(debut) : len(texte) - len(fin)]


def _bloc_texte(obj, key, profondeur: int, build) -> str:
    """`_rendu_lxml` of a block shared by many formations, kept on the instance (organisme, lieu, contact)."""
    cache = obj.__dict__.get("_lheo_textes")
    if cache is None:
        cache = obj.__dict__["_lheo_textes"] = {}
    texte = cache.get(key)
    if texte is None:
        texte = cache[key] = _rendu_lxml(profondeur, build)
    return texte


_EXTRAS_TEXTES: dict[tuple, str] = {}


def _extras_texte(profondeur: int, values: dict) -> str:
    key = (profondeur, *values.values(), *values)
    texte = _EXTRAS_TEXTES.get(key)
    if texte is None:
        if len(_EXTRAS_TEXTES) > 10_000:  # bounded: numéros de marché and place counts vary
            _EXTRAS_TEXTES.clear()
        texte = _EXTRAS_TEXTES[key] = _rendu_lxml(profondeur, lambda parent: _ofeli_extras(parent, values))
    return texte


def _stored_texte(profondeur: int, extras) -> str:
    """The partners' extras kept in a JSON field (raw text from the database, or already decoded)."""
    if not extras:
        return ""
    if isinstance(extras, str):
        if '"lheo"' not in extras:  # the key is written quoted in the JSON text: nothing stored
            return ""
        extras = json.loads(extras)
    holder = _ExtrasStockes(extras)
    if not stored_nodes(holder):
        return ""
    return _rendu_lxml(profondeur, lambda parent: _stored_extras(parent, holder))


class _ExtrasStockes:
    __slots__ = ("extras",)

    def __init__(self, extras):
        self.extras = extras


def _dates_texte(crea, maj) -> str:
    """The datecrea / datemaj attributes from the local dates the query computed (date or "AAAA-MM-JJ")."""
    texte = ""
    if crea is not None:
        texte += f' datecrea="{str(crea).replace("-", "")}"'
    if maj is not None:
        texte += f' datemaj="{str(maj).replace("-", "")}"'
    return texte


def _fit_esc(value, max_length: int) -> str:
    """``_esc(fit(value, max_length))``, without the regular expressions' work for a plain text."""
    if not value:
        return fit(value, max_length)
    text = value if type(value) is str else str(value)
    if _A_TRAITER.search(text) is not None:
        return _esc(fit(text, max_length))
    text = text.strip()
    if len(text) > max_length:
        return text[: max_length - 1].rstrip() + "…"
    return text


def _opt_texte(indent: str, name: str, value, max_length: int) -> str:
    text = _fit_esc(value, max_length)
    return f"{indent}<{name}>{text}</{name}>\n" if text else ""


def _req_texte(indent: str, name: str, value, max_length: int, fallback: str | None = None) -> str:
    text = _fit_esc(value, max_length) or (fallback if fallback is not None else FALLBACKS["texte"])
    return f"{indent}<{name}>{text}</{name}>\n"


def _url_texte(indent: str, name: str, value) -> str:
    url = fit(value, 400)
    if len(url) < 3:
        return ""
    return f"{indent}<{name}>\n{indent}{_INDENT}<urlweb>{_esc(url)}</urlweb>\n{indent}</{name}>\n"


class _Lot:
    """One chunk's rows, grouped as the renderer reads them. Shared rows (organismes, lieux, contacts,
    referentials) are model instances kept by `_Referentiels` for the whole export."""

    __slots__ = ("formations", "actions", "sessions", "liens", "contacts", "lieux", "blocs", "contacts_session")


# Columns read for each level, in this order (the datetime columns become local dates in the query).
_COLONNES_FORMATION = [
    "id",
    "numero",
    "created_at",
    "updated_at",
    "organisme_id",
    "source",
    "intitule",
    "objectif",
    "resultats_attendus",
    "contenu",
    "certifiante",
    "parcours",
    "niveau_entree",
    "niveau_sortie",
    "objectif_general",
    "url",
    "etat",
    "extras",
]
_COLONNES_ACTION = [
    "id",
    "formation_id",
    "numero",
    "created_at",
    "updated_at",
    "dispositif",
    "numero_marche",
    "rythme",
    "public_vise",
    "info_public_vise",
    "niveau_entree_obligatoire",
    "modalites_alternance",
    "modalites_enseignement",
    "conditions_specifiques",
    "prise_en_charge_frais_possible",
    "entree_sortie_permanente",
    "organisme_formateur_id",
    "prix_total_ttc",
    "prix_horaire_ttc",
    "detail_conditions_prise_en_charge",
    "duree_indicative",
    "nombre_heures_centre",
    "nombre_heures_entreprise",
    "nombre_heures_total",
    "financeurs",
    "langue",
    "modalites_recrutement",
    "modalites_pedagogiques",
    "url",
    "acces_handicapes",
    "etat",
    "extras",
]
_COLONNES_SESSION = [
    "id",
    "action_id",
    "numero",
    "created_at",
    "updated_at",
    "debut",
    "fin",
    "inscription_debut",
    "inscription_fin",
    "etat_recrutement",
    "places_restantes",
    "places_date",
    "adresse_inscription_id",
    "modalites_inscription",
    "url",
    "etat",
    "extras",
]


def _dans(colonne: str, ids: list) -> tuple[str, list]:
    """SQL `colonne` is one of `ids` (integers), with a single parameter where the database allows it."""
    if connection.vendor == "postgresql":
        return f"{colonne} = ANY(%s)", [ids]
    if connection.vendor == "sqlite":
        return f"{colonne} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]  # noqa: S608  # nosec B608  # column from the model, ids bound
    return f"{colonne} IN ({', '.join(['%s'] * len(ids))})", list(ids)


class _JourLocal:
    """SQLite: the local date ("AAAA-MM-JJ") of a datetime column read as its stored text (UTC, naive).

    Django's SQL function for it is Python called row by row; here the text is parsed once per minute it
    names (time zone offsets are whole minutes, so every instant of a minute has the same local date)."""

    def __init__(self, tzname: str):
        import zoneinfo

        self.tz = zoneinfo.ZoneInfo(tzname)
        self.cache: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        jour = self.cache.get(value[:16])
        if jour is None:
            from django.utils.dateparse import parse_datetime

            moment = parse_datetime(value)
            if moment.tzinfo is None and connection.timezone is not None:  # None: USE_TZ off, local times stored
                moment = moment.replace(tzinfo=connection.timezone)
            if moment.tzinfo is not None:
                moment = moment.astimezone(self.tz)
            if len(self.cache) > 100_000:
                self.cache.clear()
            jour = self.cache[value[:16]] = moment.date().isoformat()
        return jour


class _Requete:
    """SELECT of some fields of a model, by column, with Django's conversions only where the renderer needs
    them: datetimes become local dates (the dates LHEO writes: in SQL on PostgreSQL, ``_JourLocal`` on SQLite),
    decimals and JSON lists go through the backend's converters; the partners' extras stay raw text until one
    holds something (``_stored_texte``); dates, numbers and booleans come as the driver gives them (dates as
    dates on both backends)."""

    def __init__(self, model, fields: list[str], tzname: str):
        from django.db.models import DateTimeField, DecimalField, JSONField

        qn = connection.ops.quote_name
        table = qn(model._meta.db_table)
        self.colonnes, params, self.convertisseurs = [], [], []
        jour_local = _JourLocal(tzname) if connection.vendor == "sqlite" else None
        for index, name in enumerate(fields):
            field = model._meta.get_field(name)
            sql = f"{table}.{qn(field.column)}"
            if isinstance(field, DateTimeField) and jour_local is not None:
                sql = f"CAST({sql} AS TEXT)"  # the stored text, not the driver's datetime
                self.convertisseurs.append((index, jour_local))
            elif isinstance(field, DateTimeField):
                sql, extra = connection.ops.datetime_cast_date_sql(sql, (), tzname)
                params.extend(extra)
            elif isinstance(field, DecimalField) or (isinstance(field, JSONField) and name != "extras"):
                col = field.get_col(model._meta.db_table)
                convs = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
                if convs:
                    self.convertisseurs.append((index, _convertir(convs, col)))
            self.colonnes.append(sql)
        self.table = table
        self.params = params
        self.qn = qn

    def lignes(self, colonne: str, ids: list, ordre: list[str]) -> list:
        """The rows whose `colonne` is one of `ids`, sorted by the columns `ordre`."""
        if not ids:
            return []
        where, where_params = _dans(f"{self.table}.{self.qn(colonne)}", ids)
        order_by = ", ".join(f"{self.table}.{self.qn(c)}" for c in ordre)
        sql = f"SELECT {', '.join(self.colonnes)} FROM {self.table} WHERE {where} ORDER BY {order_by}"  # noqa: S608  # nosec B608  # names from the models, values bound
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.params, *where_params])
            rows = cursor.fetchall()
        if self.convertisseurs:
            converted = []
            for row in rows:
                row = list(row)
                for index, convertir in self.convertisseurs:
                    if (value := row[index]) is not None:
                        row[index] = convertir(value)
                converted.append(row)
            rows = converted
        return rows


def _convertir(convs: list, col) -> Callable:
    def convertir(value):
        for conv in convs:
            value = conv(value, col, connection)
        return value

    return convertir


def _liens(field, ids: list) -> list[tuple[int, int]]:
    """(source id, target id) of a many-to-many field for the sources `ids`, in the order they were added."""
    if not ids:
        return []
    qn = connection.ops.quote_name
    through = field.remote_field.through._meta
    source, target = qn(field.m2m_column_name()), qn(field.m2m_reverse_name())
    where, params = _dans(source, ids)
    sql = f"SELECT {source}, {target} FROM {qn(through.db_table)} WHERE {where} ORDER BY {qn(through.pk.column)}"  # noqa: S608  # nosec B608  # names from the models, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class _Rendu:
    """What one export keeps from chunk to chunk: the queries, the shared rows, the shared blocks' texts."""

    def __init__(self, referentiels: _Referentiels):
        from ofeli.offre.models import Action, Formation, Session, SessionContact

        self.referentiels = referentiels
        tzname = timezone.get_current_timezone_name()
        self.formations = _Requete(Formation, _COLONNES_FORMATION, tzname)
        self.actions = _Requete(Action, _COLONNES_ACTION, tzname)
        self.sessions = _Requete(Session, _COLONNES_SESSION, tzname)
        self.contacts_session = _Requete(SessionContact, ["session_id", "contact_id", "role"], tzname)
        self.m2m = {name: Formation._meta.get_field(name) for name in ("formacodes", "nsf", "romes", "certifications")}
        self.m2m["contacts"] = Formation._meta.get_field("contacts")
        self.m2m["lieux"] = Action._meta.get_field("lieux")
        self.m2m["blocs"] = Session._meta.get_field("blocs")
        self.lignes_codes: dict = {}
        self.replis = 0  # formations written by formation_element() instead (counted for the tests and benches)

    def charger(self, ids: list) -> _Lot:
        """The rows of the formations `ids` (sorted), in a fixed number of queries."""
        from ofeli.organismes.models import Contact, Lieu, Organisme, OrganismeFormateur

        referentiels = self.referentiels
        lot = _Lot()
        lot.formations = self.formations.lignes("id", ids, ["id"])
        referentiels.get(Organisme, {row[4] for row in lot.formations})
        lot.liens = {}
        for name in ("formacodes", "nsf", "romes", "certifications", "contacts"):
            field = self.m2m[name]
            links = _liens(field, ids)
            objects = referentiels.get(field.related_model, {t for _, t in links})
            by_source = defaultdict(list)
            for source_id, target_id in links:
                if (obj := objects.get(target_id)) is not None:
                    by_source[source_id].append((target_id, obj))
            for values in by_source.values():
                if name == "contacts":
                    values.sort(key=lambda item: item[0])
                else:
                    values.sort(key=lambda item: item[1].code)
            lot.liens[name] = {k: [obj for _, obj in v] for k, v in by_source.items()}

        actions = self.actions.lignes("formation_id", ids, ["id"])
        referentiels.get(OrganismeFormateur, {row[16] for row in actions} - {None})
        action_ids = [row[0] for row in actions]
        lieu_links = _liens(self.m2m["lieux"], action_ids)
        lieux_by_id = referentiels.get(Lieu, {lieu for _, lieu in lieu_links})
        lot.lieux = defaultdict(list)
        for action_id, lieu_id in lieu_links:
            lot.lieux[action_id].append(lieux_by_id[lieu_id])
        for values in lot.lieux.values():
            values.sort(key=lambda lieu: (lieu.ville, lieu.denomination, lieu.pk))

        sessions = self.sessions.lignes("action_id", action_ids, ["debut", "id"])
        referentiels.get(Lieu, {row[12] for row in sessions} - {None})
        session_ids = [row[0] for row in sessions]
        bloc_field = self.m2m["blocs"]
        links = _liens(bloc_field, session_ids)
        blocs = referentiels.get(bloc_field.related_model, {t for _, t in links})
        lot.blocs = defaultdict(list)
        for session_id, bloc_id in links:
            if (bloc := blocs.get(bloc_id)) is not None:
                lot.blocs[session_id].append(bloc)
        for values in lot.blocs.values():
            values.sort(key=lambda bloc: bloc.code)
        contacts_session = self.contacts_session.lignes("session_id", session_ids, ["id"])
        referentiels.get(Contact, {row[1] for row in contacts_session})
        lot.contacts_session = defaultdict(list)
        for session_id, contact_id, role in contacts_session:
            lot.contacts_session[session_id].append((contact_id, role))

        lot.sessions = defaultdict(list)
        for row in sessions:
            lot.sessions[row[1]].append(row)
        lot.actions = defaultdict(list)
        for row in actions:
            lot.actions[row[1]].append(row)
        return lot

    # -- rendering ---------------------------------------------------------------------------------------

    def formation(self, row, lot: _Lot) -> tuple[str, int, int]:
        """(text of the <formation>, actions written, sessions written); FormationIncomplete without session."""
        from ofeli.organismes.models import Lieu, Organisme, OrganismeFormateur

        cache = self.referentiels.cache
        (pk, numero, crea, maj, organisme_id, source, intitule, objectif, resultats, contenu, certifiante,
         parcours, niveau_entree, niveau_sortie, objectif_general, url, etat, extras) = row  # fmt: skip
        actions = [(a, lot.sessions[a[0]]) for a in lot.actions.get(pk, ()) if lot.sessions.get(a[0])]
        if not actions:
            raise FormationIncomplete(f"La formation {pk} n'a aucune session : LHEO en exige au moins une.")
        organisme = cache[Organisme][organisme_id]
        liens = lot.liens
        i1, i2 = _INDENT, _INDENT * 2
        parts = [
            f'<formation xmlns="{NS}" numero="{_esc_attr(_brut(numero)) if numero else f"OFELI-F{pk}"}"'
            f"{_dates_texte(crea, maj)}>\n"
        ]
        domaine = [
            self._code(obj, "code-FORMACODE", f' ref="{_esc_attr(_brut(obj.version or FORMACODE_VERSION))}"')
            for obj in liens["formacodes"].get(pk, ())[:5]
        ]
        domaine += [self._code(obj, "code-NSF") for obj in liens["nsf"].get(pk, ())[:3]]
        domaine += [self._code(obj, "code-ROME") for obj in liens["romes"].get(pk, ())[:5]]
        if domaine:
            parts.append(f"{i1}<domaine-formation>\n{''.join(domaine)}{i1}</domaine-formation>\n")
        else:
            parts.append(f"{i1}<domaine-formation/>\n")
        parts.append(_req_texte(i1, "intitule-formation", intitule, 255))
        parts.append(_req_texte(i1, "objectif-formation", objectif, 3000))
        parts.append(_req_texte(i1, "resultats-attendus", resultats, 3000))
        parts.append(_req_texte(i1, "contenu-formation", contenu, 3000))
        parts.append(f"{i1}<certifiante>{'1' if certifiante else '0'}</certifiante>\n")
        contacts = liens["contacts"].get(pk, ())
        for contact in contacts:
            parts.append(
                _bloc_texte(
                    contact,
                    "contact-formation",
                    1,
                    lambda holder, contact=contact: _coordonnees_personne(_sub(holder, "contact-formation"), contact),
                )
            )
        if not contacts:
            parts.append(
                _bloc_texte(
                    organisme,
                    "contact-formation",
                    1,
                    lambda holder: _coordonnees_organisme(_sub(holder, "contact-formation"), organisme),
                )
            )
        parts.append(f"{i1}<parcours-de-formation>{_esc(_brut(parcours))}</parcours-de-formation>\n")
        parts.append(f"{i1}<code-niveau-entree>{_esc(_brut(niveau_entree))}</code-niveau-entree>\n")
        if objectif_general is not None:
            parts.append(_el(i1, "objectif-general-formation", _esc(_brut(objectif_general))))
        for certification in liens["certifications"].get(pk, ())[:5]:
            code = fit(certification.code, 10)
            name = "code-RS" if certification.type == "RS" else "code-RNCP"
            if len(code) >= (3 if name == "code-RS" else 1):
                parts.append(f"{i1}<certification>\n{i2}<{name}>{_esc(code)}</{name}>\n{i1}</certification>\n")
        if niveau_sortie is not None:
            parts.append(_el(i1, "code-niveau-sortie", _esc(_brut(niveau_sortie))))
        parts.append(_url_texte(i1, "url-formation", url))
        nb_sessions = 0
        lieux, formateurs, adresses = lot.lieux, cache[OrganismeFormateur], cache[Lieu]
        for action, sessions in actions:
            self._action(parts, action, sessions, organisme, lieux.get(action[0], ()), formateurs, adresses, lot)
            nb_sessions += len(sessions)
        parts.append(
            _bloc_texte(organisme, "organisme-formation-responsable", 1, lambda holder: _organisme(holder, organisme))
        )
        parts.append(_extras_texte(1, {"source": source, "etat": etat}))
        parts.append(_stored_texte(1, extras))
        parts.append("</formation>\n")
        return "".join(parts), len(actions), nb_sessions

    def _code(self, obj, name: str, attrs: str = "") -> str:
        key = (name, obj.pk)
        line = self.lignes_codes.get(key)
        if line is None:
            line = self.lignes_codes[key] = _el(_INDENT * 2, name, _esc(_brut(obj.code)), attrs)
        return line

    def _action(self, parts, row, sessions, organisme, lieux, formateurs, adresses, lot) -> None:
        (pk, _formation_id, numero, crea, maj, dispositif, numero_marche, rythme, public_vise, info_public_vise,
         niveau_entree_obligatoire, modalites_alternance, modalites_enseignement, conditions_specifiques,
         prise_en_charge, entree_sortie_permanente, formateur_id, prix_total, prix_horaire, detail_conditions,
         duree_indicative, heures_centre, heures_entreprise, heures_total, financeurs, langue,
         modalites_recrutement, modalites_pedagogiques, url, acces_handicapes, etat, extras) = row  # fmt: skip
        i1, i2, i3 = _INDENT, _INDENT * 2, _INDENT * 3
        parts.append(
            f'{i1}<action numero="{_esc_attr(_brut(numero)) if numero else f"OFELI-A{pk}"}"{_dates_texte(crea, maj)}>\n'
        )
        parts.append(_req_texte(i2, "rythme-formation", rythme, 3000))
        publics = [p for p in (_exact(code, 5) for code in public_vise or []) if p][:10]
        for code in publics or [FALLBACKS["code-public-vise"]]:
            parts.append(f'{i2}<code-public-vise ref="{FORMACODE_VERSION}">{_esc(code)}</code-public-vise>\n')
        parts.append(_opt_texte(i2, "info-public-vise", info_public_vise, 250))
        parts.append(
            f"{i2}<niveau-entree-obligatoire>{'1' if niveau_entree_obligatoire else '0'}</niveau-entree-obligatoire>\n"
        )
        parts.append(
            _req_texte(i2, "modalites-alternance", modalites_alternance, 3000, FALLBACKS["modalites-alternance"])
        )
        parts.append(_el(i2, "modalites-enseignement", _esc(_brut(modalites_enseignement))))
        parts.append(
            _req_texte(i2, "conditions-specifiques", conditions_specifiques, 3000, FALLBACKS["conditions-specifiques"])
        )
        parts.append(
            f"{i2}<prise-en-charge-frais-possible>{'1' if prise_en_charge else '0'}</prise-en-charge-frais-possible>\n"
        )
        for lieu in lieux:
            parts.append(
                _bloc_texte(lieu, "lieu-de-formation", 2, lambda holder, lieu=lieu: _lieu_de_formation(holder, lieu))
            )
        parts.append(
            f"{i2}<modalites-entrees-sorties>{'1' if entree_sortie_permanente else '0'}</modalites-entrees-sorties>\n"
        )
        parts.append(_url_texte(i2, "url-action", url))
        for session in sessions:
            self._session(parts, session, lieux, organisme, adresses, lot)
        parts.append(_opt_texte(i2, "acces-handicapes", acces_handicapes, 250))
        if code_langue := _exact(langue, 2):
            parts.append(f"{i2}<langue-formation>{_esc(code_langue.upper())}</langue-formation>\n")
        parts.append(_opt_texte(i2, "modalites-recrutement", modalites_recrutement, 3000))
        parts.append(_opt_texte(i2, "modalites-pedagogiques", modalites_pedagogiques, 200))
        if prix := price_lheo(prix_horaire, 6):
            parts.append(f"{i2}<prix-horaire-TTC>{prix}</prix-horaire-TTC>\n")
        if prix := price_lheo(prix_total, 10):
            parts.append(f"{i2}<prix-total-TTC>{prix}</prix-total-TTC>\n")
        parts.append(_opt_texte(i2, "duree-indicative", duree_indicative, 150))
        for name, value in (
            ("nombre-heures-centre", heures_centre),
            ("nombre-heures-entreprise", heures_entreprise),
            ("nombre-heures-total", heures_total),
        ):
            if value is not None:
                parts.append(_el(i2, name, _esc(_brut(value))))
        parts.append(_opt_texte(i2, "detail-conditions-prise-en-charge", detail_conditions, 600))
        if formateur_id is not None:
            formateur = formateurs[formateur_id]
            if siret := _exact(formateur.siret, 14):
                parts.append(
                    _bloc_texte(
                        formateur, "organisme-formateur", 2, lambda holder: _formateur(holder, formateur, siret)
                    )
                )
        for code, places in _financeurs_de(financeurs):
            parts.append(f"{i2}<organisme-financeur>\n{_el(i3, 'code-financeur', _esc(code))}")
            if places:
                parts.append(_el(i3, "nb-places-financees", _esc(places)))
            parts.append(f"{i2}</organisme-financeur>\n")
        parts.append(_extras_texte(2, {"dispositif": dispositif, "numero-marche": numero_marche, "etat": etat}))
        parts.append(_stored_texte(2, extras))
        parts.append(f"{i1}</action>\n")

    def _session(self, parts, row, lieux, organisme, adresses, lot) -> None:
        (pk, _action_id, numero, crea, maj, debut, fin, inscription_debut, inscription_fin, etat_recrutement,
         places_restantes, places_date, adresse_id, modalites_inscription, url, etat, extras) = row  # fmt: skip
        i2, i3, i4 = _INDENT * 2, _INDENT * 3, _INDENT * 4
        parts.append(
            f'{i2}<session numero="{_esc_attr(_brut(numero)) if numero else f"OFELI-S{pk}"}"'
            f"{_dates_texte(crea, maj)}>\n"
            f"{i3}<periode>\n{i4}<debut>{date_lheo(debut)}</debut>\n"
            f"{i4}<fin>{date_lheo(fin, unknown='99999999')}</fin>\n{i3}</periode>\n"
        )
        # The inscription address: the session's own, else its action's first lieu, else the organisme's.
        adresse = adresses[adresse_id] if adresse_id is not None else (lieux[0] if lieux else organisme)
        denomination = getattr(adresse, "denomination", "")
        parts.append(
            _bloc_texte(
                adresse,
                ("adresse-inscription", denomination),
                3,
                lambda holder: _adresse(
                    _sub(holder, "adresse-inscription"), adresse, denomination=denomination, required=True
                ),
            )
        )
        parts.append(_opt_texte(i3, "modalites-inscription", modalites_inscription, 255))
        if inscription_debut or inscription_fin:
            i5 = _INDENT * 5
            parts.append(
                f"{i3}<periode-inscription>\n{i4}<periode>\n"
                f"{i5}<debut>{date_lheo(inscription_debut)}</debut>\n"
                f"{i5}<fin>{date_lheo(inscription_fin, unknown='99999999')}</fin>\n"
                f"{i4}</periode>\n{i3}</periode-inscription>\n"
            )
        if etat_recrutement:
            parts.append(_el(i3, "etat-recrutement", _esc(_brut(etat_recrutement))))
        parts.append(_url_texte(i3, "url-session", url))
        if contacts_session := lot.contacts_session.get(pk):
            from ofeli.organismes.models import Contact

            contacts = self.referentiels.cache[Contact]
            for contact_id, role in contacts_session:
                contact = contacts[contact_id]
                coordonnees = _bloc_texte(
                    contact,
                    "coordonnees-session",
                    4,
                    lambda holder, contact=contact: _coordonnees_personne(holder, contact),
                )
                parts.append(
                    f'{i3}<contact-session tag="{_esc_attr(_brut(role))}">\n{coordonnees}{i3}</contact-session>\n'
                )
        if blocs := lot.blocs.get(pk):
            self._blocs(parts, blocs)
        parts.append(
            _extras_texte(
                3,
                {
                    "etat": etat,
                    "places-restantes": "" if places_restantes is None else str(places_restantes),
                    "places-date": date_lheo(places_date) if places_date else "",
                },
            )
        )
        parts.append(_stored_texte(3, extras))
        parts.append(f"{i2}</session>\n")

    @staticmethod
    def _blocs(parts, blocs) -> None:
        i3, i4, i5 = _INDENT * 3, _INDENT * 4, _INDENT * 5
        par_certification = defaultdict(list)
        for bloc in blocs:
            if 8 <= len(bloc.code) <= 40:
                par_certification[bloc.certification].append(bloc)
        for certification, items in par_certification.items():
            name = "reference-code-RS" if certification.type == "RS" else "reference-code-RNCP"
            parts.append(
                f"{i3}<blocs-competences>\n{i4}<validation-blocs>0</validation-blocs>\n"
                f"{i4}<reference-certification>\n{_el(i5, name, _esc(fit(certification.code, 10)))}"
                f"{i4}</reference-certification>\n"
            )
            for bloc in items:
                parts.append(
                    f"{i4}<bloc-competences>\n{_req_texte(i5, 'libelle-bloc', bloc.libelle, 500)}"
                    f"{_el(i5, 'code-bloc', _esc(_brut(bloc.code)))}{i4}</bloc-competences>\n"
                )
            parts.append(f"{i3}</blocs-competences>\n")


# --- documents --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class ExportStats:
    formations: int = 0
    actions: int = 0
    sessions: int = 0
    omises: int = 0  # formations without any session, which LHEO cannot express

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class _Sink:
    """A file-like target for xmlfile that hands the bytes written so far to a generator."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> None:
        self.parts.append(bytes(data))
        self.size += len(data)

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        self.size = 0
        return data


def iter_document(
    items: Iterable, *, datecrea: datetime.date | None = None, buffer_size: int = 64 * 1024
) -> Iterator[bytes]:
    """An LHEO document as successive byte chunks (for a streamed HTTP response or a file).

    `items` yields formation fragments (bytes from ``formation_fragment`` or stored in publications) or lxml
    <formation> elements, written one at a time with lxml.etree.xmlfile. LHEO requires at least one formation:
    with none the document is well-formed but invalid, so callers check first (``ExportVide``).
    """
    sink = _Sink()
    with etree.xmlfile(sink, encoding="utf-8") as xf:
        xf.write_declaration()
        attrs = {"datecrea": date_lheo(datecrea or timezone.localdate())}
        with xf.element(_q("lheo"), attrs, nsmap=NSMAP):
            xf.write("\n")
            with xf.element(_q("offres")):
                xf.write("\n")
                for item in items:
                    if isinstance(item, bytes | bytearray):
                        xf.flush()
                        sink.write(item)
                    else:
                        xf.write(item, pretty_print=True)
                    if sink.size >= buffer_size:
                        xf.flush()
                        yield sink.drain()
            xf.write("\n")
    yield sink.drain()


def write_document(output, items: Iterable, *, datecrea: datetime.date | None = None) -> int:
    """Streams an LHEO document to the binary file `output`; returns the number of formations written."""
    count = 0

    def counted():
        nonlocal count
        for item in items:
            count += 1
            yield item

    for chunk in iter_document(counted(), datecrea=datecrea):
        output.write(chunk)
    return count


@contextlib.contextmanager
def _gc_espace(seuil: int = 50_000):
    """Fewer cyclic garbage collections while a large export runs.

    Loading creates tens of thousands of model instances per second; with the default threshold (700
    allocations) the collector walks the young generation thousands of times per export for nothing to
    free (the instances are released by reference counting once their chunk is written). Memory stays
    bounded by the chunk; the previous thresholds are put back at the end.
    """
    avant = gc.get_threshold()
    gc.set_threshold(max(seuil, avant[0]), *avant[1:])
    try:
        yield
    finally:
        gc.set_threshold(*avant)


class ExportVide(ValueError):
    """Nothing to write: LHEO requires at least one formation."""


def iter_formation_elements(
    source,
    stats: ExportStats,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    session_filter: SessionFilter | None = None,
    progress: Callable[[ExportStats], None] | None = None,
    progress_every: int = 200,
) -> Iterator:
    """<formation> elements of `source` (queryset or ids); formations without a session are counted as omitted."""
    for formation in iter_formations(source, chunk_size=chunk_size):
        try:
            element = formation_element(formation, session_filter=session_filter)
        except FormationIncomplete:
            stats.omises += 1
            continue
        stats.formations += 1
        for action in element.iterchildren(_q("action")):
            stats.actions += 1
            stats.sessions += sum(1 for _ in action.iterchildren(_q("session")))
        if progress and (stats.formations + stats.omises) % progress_every == 0:
            progress(stats)
        yield element


def iter_formation_fragments(
    source,
    stats: ExportStats,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[ExportStats], None] | None = None,
    progress_every: int = 200,
) -> Iterator:
    """The formations of `source` (queryset or ids) as UTF-8 fragments, for ``iter_document``: what
    ``iter_formation_elements`` gives, rendered from rows (``_Rendu``); formations without a session are counted
    as omitted. A formation the templates cannot write exactly is yielded as formation_element()'s element."""
    rendu = _Rendu(_Referentiels())
    for ids in _iter_ids(source, chunk_size):
        lot = rendu.charger(ids)
        for row in lot.formations:
            try:
                texte, nb_actions, nb_sessions = rendu.formation(row, lot)
            except FormationIncomplete:
                stats.omises += 1
                continue
            except (_Repli, ValueError):
                rendu.replis += 1
                formation = next(iter(iter_formations([row[0]])))
                item = formation_element(formation)  # raises as the lxml path always did
                nb_actions = sum(1 for _ in item.iterchildren(_q("action")))
                nb_sessions = sum(1 for _ in item.iterchildren(_q("action")) for _ in _.iterchildren(_q("session")))
            else:
                item = texte.encode("utf-8")
            stats.formations += 1
            stats.actions += nb_actions
            stats.sessions += nb_sessions
            if progress and (stats.formations + stats.omises) % progress_every == 0:
                progress(stats)
            yield item


def write_formations(
    output,
    source,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    session_filter: SessionFilter | None = None,
    progress: Callable[[ExportStats], None] | None = None,
    progress_every: int = 200,
) -> ExportStats:
    """Streams the formations of `source` (queryset or ids) as an LHEO document to `output` (binary file).

    Formations without a session are skipped and counted in ``stats.omises``. `progress(stats)` is called
    every `progress_every` formations. Raises ExportVide when no formation could be written (the caller then
    discards the output: an empty <offres> is invalid LHEO).
    """
    with _gc_espace():
        return _write_formations(
            output,
            source,
            chunk_size=chunk_size,
            session_filter=session_filter,
            progress=progress,
            progress_every=progress_every,
        )


def _write_formations(output, source, *, chunk_size, session_filter, progress, progress_every) -> ExportStats:
    stats = ExportStats()
    if session_filter is None:
        items = iter_formation_fragments(
            source, stats, chunk_size=chunk_size, progress=progress, progress_every=progress_every
        )
    else:  # a filter reads model instances: the lxml path
        items = iter_formation_elements(
            source,
            stats,
            chunk_size=chunk_size,
            session_filter=session_filter,
            progress=progress,
            progress_every=progress_every,
        )
    first = next(items, None)
    if first is None:
        raise ExportVide("Aucune formation à exporter : LHEO exige au moins une formation avec une session.")

    def chained():
        yield first
        yield from items

    write_document(output, chained())
    if progress:
        progress(stats)
    return stats
