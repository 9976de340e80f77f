"""The guide's rules for entering the offer (design note 4).

Each rule is a plain function returning French messages keyed by field name
(`{"fin": ["…"]}`; an empty dict when the data obey the rule). Forms, the services, the
spreadsheet and LHEO imports and bulk edits call the same functions, so a rule is written once.
Trusted imports (EOS, France Travail) skip the rules that bind only what an OF enters itself:
`regle_a_distance`, `regle_hors_region`, `regle_certifiante_agrement` and the source rules.
"""

import datetime
from collections.abc import Iterable

from ofeli.core.region import current_region

from .models import (
    SOURCES_LECTURE_SEULE,
    SOURCES_SAISIE_LIBRE,
    SOURCES_SESSIONS_SEULEMENT,
    ModalitesEnseignement,
    PieceJointe,
    Source,
)

Erreurs = dict[str, list[str]]


def fusionner(*erreurs: Erreurs) -> Erreurs:
    """Merges the results of several rules (messages of one field are kept in order)."""
    resultat: Erreurs = {}
    for bloc in erreurs:
        for champ, messages in bloc.items():
            resultat.setdefault(champ, []).extend(messages)
    return resultat


# --- Dates ------------------------------------------------------------------------------------


def regle_dates(debut: datetime.date | None, fin: datetime.date | None) -> Erreurs:
    if debut and fin and fin < debut:
        return {"fin": ["La date de fin doit être postérieure ou égale à la date de début."]}
    return {}


def regle_periode_inscription(debut: datetime.date | None, fin: datetime.date | None) -> Erreurs:
    if debut and fin and fin < debut:
        return {"inscription_fin": ["La fin des inscriptions doit être postérieure ou égale à leur début."]}
    return {}


def regle_places(places_restantes: int | None, places_date: datetime.date | None) -> Erreurs:
    if places_restantes is not None and places_date is None:
        return {"places_date": ["Indiquez la date à laquelle ce nombre de places restantes a été constaté."]}
    if places_restantes is None and places_date is not None:
        return {"places_restantes": ["Indiquez le nombre de places restantes à cette date."]}
    return {}


MESSAGE_ESP = (
    "Pour une formation récurrente (entrée sortie permanente : Oui), indiquez une date de début au "
    "01/01/AAAA et une date de fin au 31/12/AAAA (vous pouvez aller jusqu'au 31/03/AAAA+1 pour les "
    "formations qui se terminent après le 31/12). Le numéro CARIF sera valable pour toutes les sessions "
    "de la période choisie."
)


def regle_entree_sortie_permanente(
    entree_sortie_permanente: bool, debut: datetime.date | None, fin: datetime.date | None
) -> Erreurs:
    """Guide, "Comment saisir une formation récurrente ?": 01/01/AAAA to 31/12/AAAA, at most 31/03/AAAA+1."""
    if not entree_sortie_permanente or not debut or not fin:
        return {}
    erreurs: Erreurs = {}
    if (debut.day, debut.month) != (1, 1):
        erreurs["debut"] = [f"La date de début doit être le 01/01/{debut.year}. {MESSAGE_ESP}"]
    fin_minimale = datetime.date(debut.year, 12, 31)
    fin_maximale = datetime.date(debut.year + 1, 3, 31)
    if not fin_minimale <= fin <= fin_maximale:
        erreurs["fin"] = [
            f"La date de fin doit être comprise entre le {fin_minimale:%d/%m/%Y} et le {fin_maximale:%d/%m/%Y}. "
            f"{MESSAGE_ESP}"
        ]
    return erreurs


# --- À distance, hors région -----------------------------------------------------------------


def message_a_distance() -> str:
    region = current_region()
    return (
        "Seuls les organismes de formation déclarés auprès de la DREETS (anciennement Direccte) de la région "
        f"{region.nom} ont la possibilité de saisir leurs formations entièrement à distance dans OFeli : le "
        "numéro de déclaration d'activité de votre organisme n'a pas été délivré dans cette région. Chaque "
        "Carif-Oref référence les formations à distance proposées par les organismes de sa région : "
        "adressez-vous au Carif-Oref de la région où votre organisme est déclaré."
    )


def regle_a_distance(modalites_enseignement, organisme) -> Erreurs:
    """Guide, "Comment saisir une formation entièrement à distance ?"."""
    if modalites_enseignement is None or int(modalites_enseignement) != ModalitesEnseignement.A_DISTANCE:
        return {}
    if current_region().nda_est_de_la_region(organisme.nda or ""):
        return {}
    return {"modalites_enseignement": [message_a_distance()]}


def message_hors_region() -> str:
    region = current_region()
    return (
        f"Tous les lieux de cette session sont situés hors région {region.nom}. OFeli recense les formations "
        f"dispensées en région {region.nom} : chaque Carif-Oref est en charge de recenser les formations se "
        "déroulant dans sa région ; pour une formation qui se déroule ailleurs, contactez le Carif-Oref du lieu "
        "de déroulement de la formation. Si votre organisme n'a pas d'adresse propre dans la région, joignez une "
        "copie de la convention de formation précisant un lieu de formation en présentiel sur notre territoire."
    )


def lieu_en_region(lieu) -> bool:
    return current_region().contient_departement(lieu.departement)


def convention_valable(piece) -> bool:
    """A convention de formation counts when it names a place (commune) in the region."""
    return (
        piece.nature == PieceJointe.Nature.CONVENTION_FORMATION
        and piece.commune_lieu is not None
        and current_region().contient_departement(piece.commune_lieu.departement)
    )


def regle_hors_region(lieux: Iterable, conventions: Iterable = ()) -> Erreurs:
    """Guide, "hors région": a session whose places are all outside the region needs a convention de formation.

    `conventions`: the PieceJointe (or unsaved candidates) attached to the session or its formation.
    """
    lieux = list(lieux)
    if not lieux or any(lieu_en_region(lieu) for lieu in lieux):
        return {}
    if any(convention_valable(piece) for piece in conventions):
        return {}
    return {"lieux": [message_hors_region()]}


# --- Formation certifiante --------------------------------------------------------------------

MESSAGE_AGREMENT = (
    "Votre formation est certifiante : joignez une copie de l'agrément délivré par l'organisme valideur "
    "(ou par le centre partenaire) pour préparer et/ou valider la certification ou l'habilitation."
)


def regle_certifiante(certifiante: bool, certifications: Iterable) -> Erreurs:
    if certifiante and not list(certifications):
        return {"certifications": ["Une formation certifiante doit indiquer au moins une certification (RNCP ou RS)."]}
    if not certifiante and list(certifications):
        return {"certifiante": ["Vous avez indiqué des certifications : cochez « Formation certifiante »."]}
    return {}


def regle_certifiante_agrement(certifiante: bool, a_un_agrement: bool) -> Erreurs:
    if certifiante and not a_un_agrement:
        return {"agrement": [MESSAGE_AGREMENT]}
    return {}


def regle_blocs(blocs: Iterable, certifications: Iterable) -> Erreurs:
    """The blocs de compétences of a session belong to the formation's certifications."""
    codes = {c.pk for c in certifications}
    etrangers = [b.code for b in blocs if b.certification_id not in codes]
    if etrangers:
        return {
            "blocs": [
                "Ces blocs de compétences n'appartiennent pas aux certifications de la formation : "
                + ", ".join(etrangers)
                + "."
            ]
        }
    return {}


# --- Where the offer comes from ---------------------------------------------------------------


def message_source(source: str) -> str:
    """The guide's text on whom to contact, for an offer the OF may not change in OFeli."""
    region = current_region()
    if source == Source.REGION:
        return (
            "Cette formation est financée par le Conseil régional : elle nous est transmise directement par la "
            "Région via EOS. Sur OFeli, vous pouvez la consulter mais pas la modifier. Si vous souhaitez la "
            "modifier, contactez directement votre référent territorial."
        )
    if source == Source.AFC:
        adresse = region.contacts_externes.get("france_travail_afc", "")
        return (
            "Cette formation est une Action de Formation Conventionnée (AFC) financée par France Travail : elle "
            "nous est transmise directement par France Travail et ne peut pas être modifiée sur OFeli. Si vous ne "
            "retrouvez pas toutes vos formations financées par France Travail dans le cadre des Actions de "
            f"formation conventionnées, envoyez un message à {adresse}."
        )
    if source == Source.POEC:
        return (
            "Cette formation est une POEC (Préparation Opérationnelle à l'Emploi Collective) : elle nous est "
            "fournie par France Travail et ne peut pas être modifiée sur OFeli."
        )
    if source in SOURCES_SESSIONS_SEULEMENT:
        return (
            "Pour les formations par apprentissage et les formations scolaires, vous pouvez ajouter de nouvelles "
            "sessions mais pas créer ni modifier de formations. Si vous ne trouvez pas certaines formations que "
            f"vous proposez, envoyez un message à {region.gip.email} ou via la messagerie d'OFeli."
        )
    return ""


def regle_source_formation(source: str) -> Erreurs:
    """May an OF create or change a formation of this source?"""
    if source in SOURCES_SAISIE_LIBRE:
        return {}
    return {"__all__": [message_source(source)]}


def regle_source_session(source: str) -> Erreurs:
    """May an OF add or change a session of a formation of this source?"""
    if source in SOURCES_SAISIE_LIBRE or source in SOURCES_SESSIONS_SEULEMENT:
        return {}
    if source in SOURCES_LECTURE_SEULE:
        return {"__all__": [message_source(source)]}
    return {"__all__": ["Cette formation ne peut pas être modifiée sur OFeli."]}
