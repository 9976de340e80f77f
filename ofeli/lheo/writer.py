"""Writes the offer as LHEO 2.3 XML, valid against the official XSD (schema/lheo.xsd).

Two layers, so that the working tables and the validated offer (publications) share one renderer:

- ``formation_element(formation)`` / ``formation_fragment(formation) -> bytes`` render ONE formation, with its
  actions and sessions, from the working tables (offre.Formation > Action > Session). A publication stores the
  fragment of the formation it validated.
- ``iter_document(items)`` (byte chunks, for a streamed HTTP response) and ``write_document(output, items)``
  stream a whole ``<lheo><offres>…</offres></lheo>`` document from an iterable of fragments (bytes) or
  elements, one at a time, with lxml.etree.xmlfile; ``write_formations(output, source)`` does it from a
  queryset (or ids) loaded in chunks with a fixed number of queries per chunk (``iter_formations``), so memory
  stays bounded whatever the size.

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
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from lxml import etree

from . import FORMACODE_VERSION, NS_23
from .extras import OFELI_INFO, append_node, stored_nodes
from .text import clean_text, date_lheo, fit, price_lheo

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
    result = []
    for item in action.financeurs or []:
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
        formateur_element = _sub(element, "organisme-formateur")
        _sub(_sub(formateur_element, "SIRET-formateur"), "SIRET", siret)
        _sub(formateur_element, "raison-sociale-formateur", fit(formateur.raison_sociale, 250))
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

    On PostgreSQL one array parameter (``column = ANY(%s)``) instead of ``IN (%s, %s, …)`` with one parameter
    per id: building, splitting and binding thousands of parameters per chunk costs more than the query itself.
    """
    ids = list(ids)
    if connection.vendor == "postgresql":
        table = queryset.model._meta.db_table
        return queryset.extra(where=[f'"{table}"."{column}" = ANY(%s)'], params=[ids])  # noqa: S610  # nosec B610  # names from the model, ids bound
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
    if isinstance(source, QuerySet):
        ids = source.order_by().values_list("pk", flat=True)
        last = None
        while True:
            page = ids.filter(pk__gt=last) if last is not None else ids
            chunk = list(page.order_by("pk")[:chunk_size])
            if not chunk:
                return
            formations = _load_chunk(chunk, referentiels)
            yield from formations
            _liberer(formations)
            last = chunk[-1]
    else:
        for chunk in _batched(source, chunk_size):
            formations = _load_chunk(sorted(chunk), referentiels)
            yield from formations
            _liberer(formations)


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
