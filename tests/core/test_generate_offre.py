from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F

from ofeli.core.region import current_region
from ofeli.offre.models import Action, Etat, Formation, Session
from ofeli.organismes.models import Lieu, Organisme

pytestmark = pytest.mark.django_db


def generate(*args):
    out = StringIO()
    call_command("generate_offre", *args, stdout=out)
    return out.getvalue()


def test_generates_a_realistic_offer_with_timing():
    out = generate("--formations", "300", "--seed", "7", "--batch", "120", "--organismes", "30")
    assert Formation.objects.count() == 300
    assert Action.objects.count() == 300
    per_formation = Counter(Formation.objects.annotate(n=Count("actions__sessions")).values_list("n", flat=True))
    assert set(per_formation) <= {1, 2, 3, 4, 5, 6}
    assert 2.5 <= Session.objects.count() / 300 <= 3.8
    # About 10 % in each state but « validée », which holds about half.
    etats = Counter(Formation.objects.values_list("etat", flat=True))
    assert set(etats) == set(Etat.values)
    assert 100 <= etats[Etat.VALIDEE] <= 200
    assert all(10 <= etats[e] <= 60 for e in Etat.values if e != Etat.VALIDEE)
    # Sessions follow their formation's state; validated ones have Carif numbers.
    assert not Session.objects.exclude(etat=F("action__formation__etat")).exists()
    assert not Formation.objects.filter(etat=Etat.VALIDEE, numero=None).exists()
    # Places of training are in the configured region.
    assert set(Lieu.objects.values_list("departement", flat=True)) <= set(current_region().departements)
    # A skewed distribution: the biggest organisme holds many times the median's offer.
    sizes = sorted(Organisme.objects.annotate(n=Count("formations")).values_list("n", flat=True), reverse=True)
    assert sizes[0] >= 5 * max(1, sizes[len(sizes) // 2])
    texts = " ".join(Formation.objects.values_list("intitule", flat=True))
    assert "formation" in texts.lower() and "é" in texts
    assert "300 formations, 300 actions" in out and "formations/s" in out


def test_a_second_run_adds_to_the_offer_without_clashing_numbers():
    generate("--formations", "40", "--seed", "1")
    generate("--formations", "40", "--seed", "1")
    assert Formation.objects.count() == 80
    numeros = list(Formation.objects.exclude(numero=None).values_list("numero", flat=True))
    assert len(numeros) == len(set(numeros))


def test_same_seed_same_titles():
    generate("--formations", "20", "--seed", "3", "--sans-index")
    first = list(Formation.objects.order_by("pk").values_list("intitule", flat=True))
    Session.objects.all().delete()
    Action.objects.all().delete()
    Formation.objects.all().delete()
    generate("--formations", "20", "--seed", "3", "--sans-index")
    assert list(Formation.objects.order_by("pk").values_list("intitule", flat=True)) == first


def test_bad_arguments():
    with pytest.raises(CommandError, match="--formations doit être un entier positif"):
        generate("--formations", "0")


def test_generated_formations_are_indexed_for_search():
    from ofeli.recherche.models import DocumentRecherche

    generate("--formations", "15", "--seed", "5")
    assert DocumentRecherche.objects.filter(formation__in=Formation.objects.all()).count() >= 15
