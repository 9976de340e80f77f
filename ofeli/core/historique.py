"""The audit trail: the history of an organisme, a contact, a lieu, a formation, an action or a session.

django-simple-history keeps a row per change of these models (who: the request's user, set by
HistoryRequestMiddleware, or none for a job or an import; when; the values). This page shows, for
one object, each change with a field-level diff labelled in French (the fields' verbose names).

Visible to the équipe offre for everything, and to an OF's contacts for their current organisme's
data (another organisme's object is a 404, as everywhere). Only objects that still exist are
reachable: the history of a deleted object is kept in the database but has no page.

The page costs a bounded number of queries whatever the length of the history: one for the page of
records, one per many-to-many field and one per related model to turn ids into labels.
"""

import datetime
import json
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from simple_history.utils import get_m2m_reverse_field_name

from ofeli.offre.models import Action, Formation, Session
from ofeli.organismes.gate import Intent, of_required, organisme_scope
from ofeli.organismes.models import Contact, Lieu, Organisme

# objet (in the URL) -> (model, lookup from the model to its organisme, French name)
OBJETS = {
    "organisme": (Organisme, "pk", "l'organisme"),
    "contact": (Contact, "organisme", "le contact"),
    "lieu": (Lieu, "organisme", "le lieu de formation"),
    "formation": (Formation, "organisme", "la formation"),
    "action": (Action, "formation__organisme", "l'action"),
    "session": (Session, "action__formation__organisme", "la session"),
}

# Technical fields that change on every save and tell the reader nothing.
CHAMPS_IGNORES = {"id", "version", "updated_at", "created_at", "password", "last_login"}

TYPES = {"+": "Création", "~": "Modification", "-": "Suppression"}
PAR_PAGE = 20
VIDE = "(vide)"


@dataclass
class Changement:
    champ: str
    libelle: str
    avant: str
    apres: str


@dataclass
class Entree:
    date: datetime.datetime
    auteur: str
    equipe: bool
    type: str
    motif: str
    changements: list[Changement] = field(default_factory=list)


def url_objet(objet: str) -> str:
    if objet not in OBJETS:
        raise Http404
    return objet


def _champs(model) -> list[models.Field]:
    history_model = model.history.model
    return [f for f in history_model.tracked_fields if f.name not in CHAMPS_IGNORES]


def _m2m_fields(model) -> list[models.ManyToManyField]:
    return list(getattr(model.history.model, "_history_m2m_fields", []))


def _libelle(f) -> str:
    return str(f.verbose_name)[:1].upper() + str(f.verbose_name)[1:]


def _format(f, value, labels_fk) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return VIDE
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(f, models.ForeignKey):
        return labels_fk.get((f.related_model, value), f"n° {value} (supprimé)")
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _labels_fk(model, records) -> dict:
    """{(related model, pk): label} for every foreign key value in these records (one query per model)."""
    wanted: dict = {}
    for f in _champs(model):
        if isinstance(f, models.ForeignKey):
            ids = {getattr(r, f.attname) for r in records} - {None}
            wanted.setdefault(f.related_model, set()).update(ids)
    labels = {}
    for related, ids in wanted.items():
        if ids:
            for pk, obj in related._default_manager.in_bulk(ids).items():
                labels[(related, pk)] = str(obj)
    return labels


def _m2m_values(model, records) -> dict:
    """{(m2m field name, history_id): sorted labels} for these records (two queries per m2m field)."""
    result = {}
    ids = [r.history_id for r in records]
    for m2m in _m2m_fields(model):
        m2m_model = model.history.model.__dict__[m2m.name].model
        target = get_m2m_reverse_field_name(m2m)
        rows = list(m2m_model.objects.filter(history_id__in=ids).values_list("history_id", target))
        related = m2m.related_model._default_manager.in_bulk({pk for _, pk in rows})
        grouped: dict = {}
        for history_id, pk in rows:
            grouped.setdefault(history_id, []).append(str(related.get(pk, f"n° {pk}")))
        for history_id in ids:
            result[(m2m.name, history_id)] = sorted(grouped.get(history_id, []))
    return result


def _diff(model, record, previous, labels_fk, m2m) -> list[Changement]:
    changements = []
    creation = record.history_type == "+"
    for f in _champs(model):
        new = _format(f, getattr(record, f.attname), labels_fk)
        if creation:
            if new != VIDE:
                changements.append(Changement(f.name, _libelle(f), VIDE, new))
        elif previous is not None:
            old = _format(f, getattr(previous, f.attname), labels_fk)
            if old != new:
                changements.append(Changement(f.name, _libelle(f), old, new))
    for f in _m2m_fields(model):
        new = ", ".join(m2m[(f.name, record.history_id)]) or VIDE
        if creation:
            old = VIDE
        elif previous is not None:
            old = ", ".join(m2m[(f.name, previous.history_id)]) or VIDE
        else:
            continue
        if old != new:
            changements.append(Changement(f.name, _libelle(f), old, new))
    return changements


def entrees(model, records, base=None) -> list[Entree]:
    """Each record (newest first) with its diff against the record before it.

    `base` is the record just older than the last of `records` (from the next page), if any.
    """
    everything = [*records, base] if base is not None else list(records)
    labels_fk = _labels_fk(model, everything)
    m2m = _m2m_values(model, everything)
    result = []
    for i, record in enumerate(records):
        previous = everything[i + 1] if i + 1 < len(everything) else None
        user = record.history_user
        result.append(
            Entree(
                date=record.history_date,
                auteur=(user.get_full_name() or user.email) if user else "OFeli (traitement automatique)",
                equipe=bool(user and user.is_staff),
                type=TYPES.get(record.history_type, record.history_type),
                motif=record.history_change_reason or "",
                changements=_diff(model, record, previous, labels_fk, m2m),
            )
        )
    return result


@of_required(Intent.READ)
def historique(request, objet, pk):
    """Who changed what and when on one object, newest first, 20 changes per page."""
    model, lookup, nom = OBJETS.get(url_objet(objet))
    obj = get_object_or_404(organisme_scope(request, model.objects.all(), field=lookup), pk=pk)
    records_qs = obj.history.select_related("history_user").order_by("-history_date", "-history_id")
    paginator = Paginator(records_qs, PAR_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    start = (page.number - 1) * PAR_PAGE
    records = list(records_qs[start : start + PAR_PAGE + 1])  # one more: the base of the last diff
    base = records[PAR_PAGE] if len(records) > PAR_PAGE else None
    return render(
        request,
        "core/historique.html",
        {
            "objet": obj,
            "nom": nom,
            "type_objet": objet,
            "page": page,
            "entrees": entrees(model, records[:PAR_PAGE], base),
        },
    )
