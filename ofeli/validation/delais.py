"""Working hours: "Le GIP validera votre saisie sous 48 heures ouvrées".

Reading (docs/decisions/validation-delai-48-heures-ouvrees.md): working days are Monday to Friday
except French public holidays; a working day counts its whole 24 hours; 48 working hours are two
working days. A submission on Friday at 16:00 before a bank-holiday Monday is due on Wednesday at
16:00; one made on a Saturday is due at the end of the next Tuesday (Wednesday 00:00).

Times are counted in the wall-clock time of the project's time zone (settings.TIME_ZONE), so a
change of summer time does not move a due time by an hour.
"""

import datetime
from functools import cache

import holidays
from django.utils import timezone

DELAI_HEURES_OUVREES = 48
_UN_JOUR = datetime.timedelta(days=1)


@cache
def _feries(annee: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("FR", years=annee).keys())


def est_jour_ouvre(jour: datetime.date) -> bool:
    return jour.weekday() < 5 and jour not in _feries(jour.year)


def _local_naif(moment: datetime.datetime) -> datetime.datetime:
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.replace(tzinfo=None)


def _aware(naif: datetime.datetime) -> datetime.datetime:
    return timezone.make_aware(naif, timezone.get_current_timezone())


def ajouter_heures_ouvrees(depart: datetime.datetime, heures: float) -> datetime.datetime:
    """The moment `heures` working hours after `depart` (aware in, aware out)."""
    reste = datetime.timedelta(hours=heures)
    courant = _local_naif(depart)
    while True:
        minuit = datetime.datetime.combine(courant.date() + _UN_JOUR, datetime.time())
        if est_jour_ouvre(courant.date()):
            dispo = minuit - courant
            if reste <= dispo:
                return _aware(courant + reste)
            reste -= dispo
        courant = minuit


def retirer_heures_ouvrees(fin: datetime.datetime, heures: float) -> datetime.datetime:
    """The latest moment `heures` working hours before `fin` (aware in, aware out): ajouter_heures_ouvrees
    walked backwards."""
    reste = datetime.timedelta(hours=heures)
    courant = _local_naif(fin)
    while True:
        debut = datetime.datetime.combine(courant.date(), datetime.time())
        if courant == debut:  # at midnight: the day to count is the one before
            debut -= _UN_JOUR
        if est_jour_ouvre(debut.date()):
            dispo = courant - debut
            if reste <= dispo:
                return _aware(courant - reste)
            reste -= dispo
        courant = debut


def _jours_ouvres(debut: datetime.date, fin: datetime.date) -> int:
    """Working days from `debut` included to `fin` excluded, without walking the days one by one."""
    jours = (fin - debut).days
    if jours <= 0:
        return 0
    semaines, reste = divmod(jours, 7)
    ouvres = semaines * 5 + sum(1 for i in range(reste) if (debut.weekday() + i) % 7 < 5)
    for annee in range(debut.year, fin.year + 1):
        ouvres -= sum(1 for jour in _feries(annee) if debut <= jour < fin and jour.weekday() < 5)
    return ouvres


def heures_ouvrees_entre(debut: datetime.datetime, fin: datetime.datetime) -> float:
    """Working hours from `debut` to `fin`; negative when `fin` is before `debut`.

    The part of the first and of the last day, plus 24 hours per working day in between: the review queue asks
    this for fifty items a page, some submitted months ago.
    """
    if fin < debut:
        return -heures_ouvrees_entre(fin, debut)
    courant, fin = _local_naif(debut), _local_naif(fin)
    if courant.date() == fin.date():
        total = fin - courant if est_jour_ouvre(courant.date()) else datetime.timedelta()
        return total.total_seconds() / 3600
    total = datetime.timedelta()
    if est_jour_ouvre(courant.date()):
        total += datetime.datetime.combine(courant.date() + _UN_JOUR, datetime.time()) - courant
    if est_jour_ouvre(fin.date()):
        total += fin - datetime.datetime.combine(fin.date(), datetime.time())
    total += _UN_JOUR * _jours_ouvres(courant.date() + _UN_JOUR, fin.date())
    return total.total_seconds() / 3600


def echeance(soumise_at: datetime.datetime) -> datetime.datetime:
    """When the GIP has promised to have validated a submission."""
    return ajouter_heures_ouvrees(soumise_at, DELAI_HEURES_OUVREES)


def heures_restantes(soumise_at: datetime.datetime, maintenant: datetime.datetime | None = None) -> float:
    """Working hours left before the due time (negative once past due)."""
    return heures_ouvrees_entre(maintenant or timezone.now(), echeance(soumise_at))


def en_retard(soumise_at: datetime.datetime, maintenant: datetime.datetime | None = None) -> bool:
    return (maintenant or timezone.now()) >= echeance(soumise_at)


def limite_retard(maintenant: datetime.datetime | None = None) -> datetime.datetime:
    """The latest submission that is late at `maintenant`: en_retard(s, maintenant) is `s <= limite_retard(...)`.

    An item is late once 48 working hours have passed since its submission; counting them back from now gives
    the boundary, so the queue counts its late items with one comparison in SQL.
    """
    return retirer_heures_ouvrees(maintenant or timezone.now(), DELAI_HEURES_OUVREES)


def formater_heures(heures: float) -> str:
    """'1 j 6 h' style text of a number of working hours (days of 24 working hours)."""
    minutes = round(abs(heures) * 60)
    jours, minutes = divmod(minutes, 24 * 60)
    h, m = divmod(minutes, 60)
    parts = []
    if jours:
        parts.append(f"{jours} j")
    if h:
        parts.append(f"{h} h")
    if not jours and m:
        parts.append(f"{m} min")
    return " ".join(parts) or "0 min"
