import datetime
import zoneinfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from ofeli.validation import delais

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def paris(*args):
    return datetime.datetime(*args, tzinfo=PARIS)


def test_two_working_days_in_the_week():
    # Tuesday 10:00 -> Thursday 10:00
    assert delais.echeance(paris(2025, 3, 11, 10, 0)) == paris(2025, 3, 13, 10, 0)


def test_across_a_weekend():
    # Thursday 15:30 -> Friday 24h -> Monday 15:30
    assert delais.echeance(paris(2025, 3, 13, 15, 30)) == paris(2025, 3, 17, 15, 30)


def test_friday_before_a_bank_holiday_monday():
    # Friday 6 June 2025 16:00, Whit Monday 9 June is a public holiday: 8 h Friday, 24 h Tuesday, 16 h Wednesday.
    assert delais.echeance(paris(2025, 6, 6, 16, 0)) == paris(2025, 6, 11, 16, 0)


def test_easter_monday():
    # Friday 18 April 2025 16:00 before Easter Monday 21 April -> Wednesday 23 April 16:00
    assert delais.echeance(paris(2025, 4, 18, 16, 0)) == paris(2025, 4, 23, 16, 0)


def test_submitted_on_a_saturday_counts_from_monday():
    assert delais.echeance(paris(2025, 3, 15, 11, 0)) == paris(2025, 3, 19, 0, 0)


def test_holidays_are_not_working_days():
    assert not delais.est_jour_ouvre(datetime.date(2025, 7, 14))
    assert not delais.est_jour_ouvre(datetime.date(2025, 12, 25))
    assert not delais.est_jour_ouvre(datetime.date(2025, 3, 15))
    assert delais.est_jour_ouvre(datetime.date(2025, 3, 14))


def test_working_hours_between_skip_weekend_and_holiday():
    assert delais.heures_ouvrees_entre(paris(2025, 6, 6, 16, 0), paris(2025, 6, 10, 16, 0)) == pytest.approx(24)
    assert delais.heures_ouvrees_entre(paris(2025, 6, 10, 16, 0), paris(2025, 6, 6, 16, 0)) == pytest.approx(-24)


def test_time_left_and_past_due_with_the_clock():
    soumise = paris(2025, 6, 6, 16, 0)
    with time_machine.travel(paris(2025, 6, 10, 16, 0), tick=False):
        assert delais.heures_restantes(soumise) == pytest.approx(24)
        assert not delais.en_retard(soumise)
    with time_machine.travel(paris(2025, 6, 11, 15, 59), tick=False):
        assert not delais.en_retard(soumise)
    with time_machine.travel(paris(2025, 6, 11, 16, 0), tick=False):
        assert delais.en_retard(soumise)
    with time_machine.travel(paris(2025, 6, 12, 10, 0), tick=False):
        assert delais.heures_restantes(soumise) == pytest.approx(-18)


def test_formater_heures():
    assert delais.formater_heures(30) == "1 j 6 h"
    assert delais.formater_heures(-2.5) == "2 h 30 min"
    assert delais.formater_heures(0.25) == "15 min"


def _heures_jour_par_jour(debut, fin):
    """The definition, one day after the other (what heures_ouvrees_entre computes faster)."""
    courant = debut.astimezone(PARIS).replace(tzinfo=None)
    fin = fin.astimezone(PARIS).replace(tzinfo=None)
    total = datetime.timedelta()
    while courant < fin:
        minuit = datetime.datetime.combine(courant.date() + datetime.timedelta(days=1), datetime.time())
        borne = min(minuit, fin)
        if delais.est_jour_ouvre(courant.date()):
            total += borne - courant
        courant = borne
    return total.total_seconds() / 3600


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime.datetime(2024, 1, 1), max_value=datetime.datetime(2027, 12, 31)),
    st.integers(min_value=0, max_value=60 * 24 * 800),
)
def test_working_hours_between_equal_counting_day_by_day(debut, minutes):
    debut = debut.replace(tzinfo=PARIS)
    fin = debut + datetime.timedelta(minutes=minutes)
    assert delais.heures_ouvrees_entre(debut, fin) == _heures_jour_par_jour(debut, fin)
    assert delais.heures_ouvrees_entre(fin, debut) == -_heures_jour_par_jour(debut, fin)


@settings(max_examples=300, deadline=None)
@given(
    maintenant=st.datetimes(min_value=datetime.datetime(2024, 1, 1), max_value=datetime.datetime(2027, 12, 31)),
    avant=st.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(days=12)),
)
def test_the_late_boundary_splits_late_from_not_late(maintenant, avant):
    # The queue counts its late items as "submitted at or before limite_retard": the same as asking each one.
    maintenant = maintenant.replace(tzinfo=PARIS)
    soumise = maintenant - avant
    assert delais.en_retard(soumise, maintenant) == (soumise <= delais.limite_retard(maintenant))


@pytest.mark.parametrize(
    ("maintenant", "limite"),
    [
        (paris(2025, 3, 13, 10, 0), paris(2025, 3, 11, 10, 0)),  # Thursday -> Tuesday, same hour
        (paris(2025, 3, 17, 10, 0), paris(2025, 3, 13, 10, 0)),  # Monday -> Thursday, over the weekend
        (paris(2025, 3, 15, 12, 0), paris(2025, 3, 13, 0, 0)),  # Saturday: the two working days before it
        (paris(2025, 6, 11, 16, 0), paris(2025, 6, 6, 16, 0)),  # Whit Monday does not count
    ],
)
def test_the_late_boundary_on_known_days(maintenant, limite):
    assert delais.limite_retard(maintenant) == limite
    assert delais.en_retard(limite, maintenant)
    assert not delais.en_retard(limite + datetime.timedelta(microseconds=1), maintenant)
