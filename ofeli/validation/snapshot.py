"""The snapshot a Publication holds, and the diff of a working copy against it.

Format of Publication.data (schema 1), JSON only (dates ISO, decimals as strings):

    {
      "schema": 1,
      "formation": {<field>: value, ..., "organisme": {...}, "certifications": [{...}], ...},
      "actions": [
        {<field>: value, ..., "lieux": [{...}], "organisme_formateur": {...} | null,
         "sessions": [{<field>: value, ..., "adresse_inscription": {...} | null, "contacts": [...], "blocs": [...]}]}
      ]
    }

Every object carries "id" and "numero" (its Carif number). A field with choices also carries
"<field>_libelle" (the French label). Related objects are dicts with "id" and "libelle" (str of
the object) plus the fields readers need (addresses for lieux, codes for referentials).
Workflow bookkeeping (etat, version, soumise_at, created_by) is not part of it; created_at and
updated_at (LHEO datecrea / datemaj), source_ref and the stored LHEO extras are.
"""

import datetime
import decimal

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Prefetch

from ofeli.offre.models import Action, Etat, Formation, Session, SessionContact
from ofeli.organismes.models import Contact

SCHEMA = 1

# States in which the previously validated version of an object stays diffused.
EN_SUSPENS = (Etat.EN_ATTENTE, Etat.COMPLEMENT)

# Fields that say where an object is in the workflow, not what it is.
EXCLUS = {"etat", "version", "soumise_at", "created_by"}
# Kept in the snapshot (LHEO datecrea / datemaj) but not shown as changes.
HORS_DIFF = {"id", "sessions", "created_at", "updated_at"}

# For related objects: the fields kept besides id and libelle.
CHAMPS_LIES = {
    "organismes.organisme": [
        "raison_sociale", "nom", "sigle", "siret", "nda", "numero", "ligne1", "ligne2",
        "code_postal", "ville", "code_insee", "departement", "region", "telephone",
    ],
    "organismes.lieu": [
        "denomination", "ligne1", "ligne2", "code_postal", "ville", "code_insee", "departement",
        "region", "pays", "siret", "telephone", "email",
    ],
    "organismes.organismeformateur": ["siret", "raison_sociale"],
    "referentiels.formacode": ["code", "libelle"],
    "referentiels.nsf": ["code", "libelle"],
    "referentiels.rome": ["code", "libelle"],
    "referentiels.certification": ["type", "code", "intitule", "niveau"],
    "referentiels.bloccompetences": ["code", "libelle"],
}  # fmt: skip


def _valeur(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _lie(obj) -> dict | None:
    if obj is None:
        return None
    data = {"id": obj.pk, "libelle": str(obj)}
    for name in CHAMPS_LIES.get(obj._meta.label_lower, []):
        data[name] = _valeur(getattr(obj, name))
    if obj._meta.label_lower == "organismes.contact":
        user = obj.user
        data.update(
            nom=user.get_full_name() if hasattr(user, "get_full_name") else str(user),
            email=user.email,
            telephone=getattr(user, "telephone", ""),
            fonction=obj.fonction,
        )
    return data


def serialiser(obj) -> dict:
    """One formation, action or session as a JSON-ready dict (without its children)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in EXCLUS:
            continue
        if field.is_relation:
            if field.name in ("formation", "action"):
                continue  # the parent: implied by the nesting
            data[field.name] = _lie(getattr(obj, field.name))
            continue
        value = getattr(obj, field.attname)
        data[field.name] = _valeur(value)
        if field.choices:
            data[f"{field.name}_libelle"] = str(dict(field.flatchoices).get(value, "")) if value is not None else ""
    for field in obj._meta.many_to_many:
        data[field.name] = [_lie(o) for o in getattr(obj, field.name).all()]
    if isinstance(obj, Session):
        if "session_contacts" in getattr(obj, "_prefetched_objects_cache", {}):
            session_contacts = obj.session_contacts.all()  # prefetched by `charger`, in this order
        else:
            session_contacts = obj.session_contacts.select_related("contact__user").order_by("role", "id")
        data["contacts"] = [dict(_lie(sc.contact), role=sc.role) for sc in session_contacts]
    return data


def charger(formation_id) -> Formation:
    """A formation with everything its snapshot reads (organisme, referentials, actions, lieux, sessions, blocs,
    contacts) in one query per relation, instead of a few queries per action and per session."""
    sessions = (
        Session.objects.order_by("debut", "id")
        .select_related("adresse_inscription")
        .prefetch_related(
            "blocs",
            Prefetch(
                "session_contacts",
                queryset=SessionContact.objects.select_related("contact__user", "contact__organisme").order_by(
                    "role", "id"
                ),
            ),
        )
    )
    actions = (
        Action.objects.order_by("id")
        .select_related("organisme_formateur")
        .prefetch_related("lieux", Prefetch("sessions", queryset=sessions))
    )
    return (
        Formation.objects.select_related("organisme")
        .prefetch_related(
            "certifications",
            "formacodes",
            "nsf",
            "romes",
            Prefetch("contacts", queryset=Contact.objects.select_related("user", "organisme")),
            Prefetch("actions", queryset=actions),
        )
        .get(pk=getattr(formation_id, "pk", formation_id))
    )


def _enfants(obj, relation: str, *ordre):
    """The actions of a formation or the sessions of an action: prefetched by `charger` (already in this order),
    else read in this order."""
    if relation in getattr(obj, "_prefetched_objects_cache", {}):
        return getattr(obj, relation).all()
    return getattr(obj, relation).order_by(*ordre)


def instantane(*, formation: Formation, precedente: dict | None, retenir) -> dict:
    """Builds the snapshot of a formation for a new publication.

    `retenir(obj)` says whether an object's working copy is the validated one (its state is
    "validée"). An object not retained but pending (en attente de validation or of complement)
    keeps its version from the previous publication if it had one there: a pending change does
    not withdraw what is diffused. Anything else (draft, non diffusée, archived) is left out.
    """
    anciennes_actions = {a["id"]: a for a in (precedente or {}).get("actions", [])}
    anciennes_sessions = {s["id"]: s for a in anciennes_actions.values() for s in a.get("sessions", [])}

    if retenir(formation):
        data_formation = serialiser(formation)
    elif precedente and formation.etat in EN_SUSPENS:
        data_formation = precedente["formation"]
    else:
        raise ValueError("La formation n'a jamais été validée.")

    actions = []
    for action in _enfants(formation, "actions", "id"):
        sessions = []
        for session in _enfants(action, "sessions", "debut", "id"):
            if retenir(session):
                sessions.append(serialiser(session))
            elif session.etat in EN_SUSPENS and session.pk in anciennes_sessions:
                sessions.append(anciennes_sessions[session.pk])
        if retenir(action):
            data_action = serialiser(action)
        elif action.etat in EN_SUSPENS and action.pk in anciennes_actions:
            data_action = {k: v for k, v in anciennes_actions[action.pk].items() if k != "sessions"}
        else:
            continue
        if not sessions:
            continue  # LHEO: an action is published with at least one session
        actions.append(dict(data_action, sessions=sessions))
    return {"schema": SCHEMA, "formation": data_formation, "actions": actions}


# --- Diff ---------------------------------------------------------------------------------------------


def _libelle_champ(model, name: str) -> str:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a key of the snapshot that is not a model field
        return name.replace("_", " ")
    label = str(getattr(field, "verbose_name", name))
    return label[:1].upper() + label[1:]


def _affichable(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, dict):
        return value.get("libelle") or str(value.get("id", ""))
    if isinstance(value, list):
        return " ; ".join(_affichable(v) for v in value)
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            return datetime.date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return str(value)


def _comparable(value):
    if value in (None, "", [], {}):
        return None  # an empty field is empty, whatever its type: no line for "—" → "—"
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def diff_objet(model, avant: dict | None, apres: dict | None) -> list[dict]:
    """Field-by-field changes between two serialised objects: [{champ, libelle, avant, apres}]."""
    avant = avant or {}
    apres = apres or {}
    lignes = []
    for name in apres.keys() | avant.keys():
        if name in HORS_DIFF or name.endswith("_libelle"):
            continue
        a, b = avant.get(name), apres.get(name)
        if _comparable(a) == _comparable(b):
            continue
        if f"{name}_libelle" in apres or f"{name}_libelle" in avant:
            a = avant.get(f"{name}_libelle", a) if name in avant else None
            b = apres.get(f"{name}_libelle", b) if name in apres else None
        lignes.append(
            {"champ": name, "libelle": _libelle_champ(model, name), "avant": _affichable(a), "apres": _affichable(b)}
        )
    ordre = {f.name: i for i, f in enumerate(model._meta.get_fields())}
    lignes.sort(key=lambda ligne: ordre.get(ligne["champ"], 999))
    return lignes


STATUTS = {"nouvelle": "Nouvelle", "modifiee": "Modifiée", "inchangee": "Inchangée", "retiree": "Retirée"}


def diff(*, formation: Formation, publication_data: dict | None) -> dict:
    """What changed in a formation's working copy since its current publication.

    Returns {"nouvelle": bool, "formation": [lines], "actions": [{"titre", "statut", "lignes", "sessions": [...]}]}
    where statut is "nouvelle", "modifiee", "inchangee" or "retiree", and each session is
    {"titre", "statut", "lignes"}. A new formation (no publication) shows every field as new.
    """
    ancien = publication_data or {}
    anciennes_actions = {a["id"]: a for a in ancien.get("actions", [])}
    resultat = {
        "nouvelle": not publication_data,
        "formation": diff_objet(Formation, ancien.get("formation"), serialiser(formation)),
        "actions": [],
    }
    vues = set()
    for action in _enfants(formation, "actions", "id"):
        vues.add(action.pk)
        avant = anciennes_actions.get(action.pk)
        lignes = diff_objet(Action, avant, serialiser(action))
        anciennes_sessions = {s["id"]: s for s in (avant or {}).get("sessions", [])}
        sessions = []
        for session in _enfants(action, "sessions", "debut", "id"):
            s_avant = anciennes_sessions.pop(session.pk, None)
            s_lignes = diff_objet(Session, s_avant, serialiser(session))
            statut = "nouvelle" if s_avant is None else ("modifiee" if s_lignes else "inchangee")
            sessions.append(
                {"id": session.pk, "titre": str(session), "statut": statut, "lignes": s_lignes, "etat": session.etat}
            )
        for s in anciennes_sessions.values():
            sessions.append(
                {"id": s["id"], "titre": s.get("numero") or f"Session {s['id']}", "statut": "retiree", "lignes": []}
            )
        statut = "nouvelle" if avant is None else ("modifiee" if lignes else "inchangee")
        resultat["actions"].append({"titre": str(action), "statut": statut, "lignes": lignes, "sessions": sessions})
    for a_id, a in anciennes_actions.items():
        if a_id not in vues:
            resultat["actions"].append(
                {"titre": a.get("numero") or f"Action {a_id}", "statut": "retiree", "lignes": [], "sessions": []}
            )
    for a in resultat["actions"]:
        a["statut_libelle"] = STATUTS[a["statut"]]
        for session in a["sessions"]:
            session["statut_libelle"] = STATUTS[session["statut"]]
    return resultat


def est_fonds_publics(data: dict) -> bool:
    from ofeli.offre.models import DISPOSITIFS_FONDS_PUBLICS

    return any(a.get("dispositif") in DISPOSITIFS_FONDS_PUBLICS for a in data.get("actions", []))
