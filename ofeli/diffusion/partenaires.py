"""Partners: which offer each receives, and the writes of the partner screens (partners and API tokens).

What a partner receives (Partenaire.perimetre, dispositifs, exclure_terminees), decided for the partners the
guide lists and seeded by migration 0002 (the équipe offre may change it on the partner screens):

- the regional public site (its name from the region's configuration): the whole validated offer, ended
  sessions included (the site shows a formation once the GIP validated it);
- the national Carif-Oref base, CLEOR, the Site Orientation: the whole validated offer, sessions not ended;
- France Travail (Kairos, AUDE Formation, Trouver ma formation): the sessions open to the dispositifs France
  Travail prescribes or funds — AIF, AFC, POEC, POEI, contrat de professionnalisation, Région, apprentissage
  (La bonne alternance) — not ended (Kairos shows sessions in progress);
- the Bourse de l'apprentissage: apprenticeship sessions, not ended.
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ofeli.core.region import current_region
from ofeli.offre.models import Dispositif

from .models import JetonPartenaire, Partenaire

DISPOSITIFS_FRANCE_TRAVAIL = [
    Dispositif.AIF.value,
    Dispositif.AFC.value,
    Dispositif.POEC.value,
    Dispositif.POEI.value,
    Dispositif.CONTRAT_PRO.value,
    Dispositif.REGION.value,
    Dispositif.APPRENTISSAGE.value,
]


def partenaires_du_guide() -> list[dict]:
    region = current_region()
    return [
        {
            "slug": "site-regional",
            "nom": region.site_public,
            "type": Partenaire.Type.SITE_REGIONAL,
            "description": "Le site public de l'offre de formation de la région",
            "perimetre": Partenaire.Perimetre.TOUT,
            "exclure_terminees": False,
        },
        {
            "slug": "base-nationale-carif-oref",
            "nom": "Base nationale du Réseau des Carif-Oref",
            "type": Partenaire.Type.BASE_NATIONALE,
            "description": "Site national du Réseau des Carif-Oref (offre de toutes les régions)",
            "perimetre": Partenaire.Perimetre.TOUT,
        },
        {
            "slug": "france-travail",
            "nom": "France Travail (Kairos, AUDE Formation)",
            "type": Partenaire.Type.FRANCE_TRAVAIL,
            "description": "Kairos, AUDE Formation, Trouver ma formation, La bonne alternance",
            "perimetre": Partenaire.Perimetre.DISPOSITIFS,
            "dispositifs": DISPOSITIFS_FRANCE_TRAVAIL,
        },
        {
            "slug": "cleor",
            "nom": "CLEOR",
            "type": Partenaire.Type.SITE_REGIONAL,
            "perimetre": Partenaire.Perimetre.TOUT,
        },
        {
            "slug": "site-orientation",
            "nom": "Site Orientation",
            "type": Partenaire.Type.SITE_REGIONAL,
            "perimetre": Partenaire.Perimetre.TOUT,
        },
        {
            "slug": "bourse-apprentissage",
            "nom": "Bourse de l'apprentissage",
            "type": Partenaire.Type.SITE_REGIONAL,
            "perimetre": Partenaire.Perimetre.DISPOSITIFS,
            "dispositifs": [Dispositif.APPRENTISSAGE.value],
        },
    ]


# --- which sessions a partner receives ------------------------------------------------------------------


@dataclass(frozen=True)
class Refus:
    code: str  # "dispositif" | "terminee"
    message: str


def refus_session(partenaire: Partenaire, session: dict, dispositif: str, nuit) -> Refus | None:
    """Why a published session (a dict of Publication.data) is not sent to `partenaire` on `nuit`, or None."""
    if not partenaire.prend_dispositif(dispositif):
        label = dict(Dispositif.choices).get(dispositif, dispositif)
        return Refus(
            "dispositif",
            f"Son dispositif (« {label} ») n'est pas transmis à {partenaire.nom}, qui reçoit : "
            + ", ".join(partenaire.dispositifs_libelles())
            + ".",
        )
    fin = session.get("fin")
    if partenaire.exclure_terminees and fin and fin < nuit.isoformat():
        return Refus(
            "terminee",
            f"Elle est terminée (fin le {fin[8:10]}/{fin[5:7]}/{fin[:4]}) : "
            f"{partenaire.nom} ne reçoit que les sessions en cours ou à venir.",
        )
    return None


def sessions_transmises(partenaire: Partenaire, data: dict, nuit) -> list[dict]:
    """The sessions of a publication's data sent to `partenaire` on `nuit` (each with its action's dispositif)."""
    kept = []
    for action in data.get("actions", []):
        for session in action.get("sessions", []):
            if refus_session(partenaire, session, action.get("dispositif", ""), nuit) is None:
                kept.append(session)
    return kept


# --- writes -----------------------------------------------------------------------------------------------


def _verifier(*, nom, slug, perimetre, dispositifs, exclude_pk=None):
    errors = {}
    if not (nom or "").strip():
        errors["nom"] = "Indiquez le nom du partenaire."
    if Partenaire.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        errors["slug"] = "Un autre partenaire a déjà cet identifiant."
    inconnus = [d for d in dispositifs if d not in Dispositif.values]
    if inconnus:
        errors["dispositifs"] = "Dispositif inconnu : " + ", ".join(inconnus) + "."
    if perimetre == Partenaire.Perimetre.DISPOSITIFS and not dispositifs:
        errors["dispositifs"] = "Choisissez au moins un dispositif transmis à ce partenaire."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def partenaire_creer(
    *, nom, slug, type, perimetre, dispositifs=(), exclure_terminees=True, actif=True, description=""
) -> Partenaire:
    dispositifs = list(dispositifs)
    _verifier(nom=nom, slug=slug, perimetre=perimetre, dispositifs=dispositifs)
    return Partenaire.objects.create(
        nom=nom.strip(),
        slug=slug,
        type=type,
        perimetre=perimetre,
        dispositifs=dispositifs if perimetre == Partenaire.Perimetre.DISPOSITIFS else [],
        exclure_terminees=exclure_terminees,
        actif=actif,
        description=description,
    )


@transaction.atomic
def partenaire_modifier(*, partenaire: Partenaire, **fields) -> Partenaire:
    partenaire = Partenaire.objects.select_for_update().get(pk=partenaire.pk)
    for name, value in fields.items():
        setattr(partenaire, name, list(value) if name == "dispositifs" else value)
    if partenaire.perimetre != Partenaire.Perimetre.DISPOSITIFS:
        partenaire.dispositifs = []
    _verifier(
        nom=partenaire.nom,
        slug=partenaire.slug,
        perimetre=partenaire.perimetre,
        dispositifs=partenaire.dispositifs,
        exclude_pk=partenaire.pk,
    )
    partenaire.save()
    return partenaire


def empreinte(jeton: str) -> str:
    return hashlib.sha256(jeton.encode()).hexdigest()


@transaction.atomic
def jeton_creer(*, partenaire: Partenaire, user, libelle: str = "") -> tuple[JetonPartenaire, str]:
    """A new API token for `partenaire`: returns the row and the token in clear (shown once, never stored)."""
    jeton = "ofeli_" + secrets.token_urlsafe(32)
    row = JetonPartenaire.objects.create(
        partenaire=partenaire,
        libelle=(libelle or "").strip()[:100],
        prefixe=jeton[:12],
        empreinte=empreinte(jeton),
        created_by=user,
    )
    return row, jeton


@transaction.atomic
def jeton_revoquer(*, jeton: JetonPartenaire, user) -> JetonPartenaire:
    jeton = JetonPartenaire.objects.select_for_update().get(pk=jeton.pk)
    if jeton.revoked_at is None:
        jeton.revoked_at = timezone.now()
        jeton.revoked_by = user
        jeton.save(update_fields=["revoked_at", "revoked_by"])
    return jeton
