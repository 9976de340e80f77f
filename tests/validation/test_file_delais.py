"""The queue counts late items without computing every item's delay; it must count exactly as one by one."""

import datetime
import zoneinfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ofeli.validation.services import Element, nombre_en_retard

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
MAINTENANT = datetime.datetime(2026, 11, 26, 15, 0, tzinfo=PARIS)  # a Thursday


def _elements(decalages_minutes):
    dates = sorted(MAINTENANT - datetime.timedelta(minutes=m) for m in decalages_minutes)
    return [
        Element(objet="session", obj=None, formation=None, type="", soumise_at=d, maintenant=MAINTENANT) for d in dates
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60 * 24 * 20), max_size=40))
def test_the_late_count_equals_counting_one_by_one(decalages):
    elements = _elements(decalages)
    attendu = sum(1 for e in _elements(decalages) if e.en_retard)
    assert nombre_en_retard(elements) == attendu


def test_an_item_submitted_a_week_ago_is_late_one_submitted_now_is_not():
    elements = _elements([60 * 24 * 7, 0])
    assert [e.en_retard for e in elements] == [True, False]
    assert nombre_en_retard(elements) == 1
