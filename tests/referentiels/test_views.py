import pytest
from django.urls import reverse

pytestmark = pytest.mark.usefixtures("referentiels")


def results(client, name, **params):
    response = client.get(reverse(f"referentiels:{name}"), params)
    assert response.status_code == 200
    return [r["code"] for r in response.json()["results"]]


def test_communes_by_name_without_accents_postal_code_or_insee(client):
    assert results(client, "communes", q="orleans")[0] == "45234"
    assert "45234" in results(client, "communes", q="45000")
    assert results(client, "communes", q="45234") == ["45234"]
    assert "45284" in results(client, "communes", q="st jean de braye")
    # The biggest commune first among those that start the same way.
    assert results(client, "communes", q="tours")[0] == "37261"
    assert results(client, "communes", q="saint", departement="18")
    assert all(c.startswith("18") for c in results(client, "communes", q="saint", departement="18"))


def test_empty_or_unknown_query_gives_no_result(client):
    assert results(client, "communes", q="") == []
    assert results(client, "formacodes", q="zzzzz") == []


def test_formacode_nsf_rome_by_code_or_words(client):
    assert results(client, "formacodes", q="soudage") == ["22454"]
    assert results(client, "formacodes", q="83056") == ["83056"]
    assert results(client, "formacodes", q="demandeur emploi")[:1] == ["80006"]
    assert results(client, "nsf", q="254") == ["254"]
    assert "F1604" in results(client, "romes", q="F16")
    assert results(client, "romes", q="F1604") == ["F1604"]
    assert "G1602" in results(client, "romes", q="cuisine")


def test_certifications_by_title_rncp_or_rs_code(client):
    assert results(client, "certifications", q="soudeur") == ["RNCP34078"]
    assert results(client, "certifications", q="rncp 34078") == ["RNCP34078"]
    assert results(client, "certifications", q="34078") == ["RNCP34078"]
    assert results(client, "certifications", q="RS5192") == ["RS5192"]
    assert "RNCP31115" in results(client, "certifications", q="assistant vie")
    assert "RNCP31115" not in results(client, "certifications", q="assistant vie", actives="1")


def test_blocs_of_a_certification(client):
    assert results(client, "blocs", certification="RNCP34078") == ["RNCP34078BC01", "RNCP34078BC02"]
    assert results(client, "blocs", certification="RNCP34078", q="positions") == ["RNCP34078BC02"]
    assert results(client, "blocs") == []


def test_json_carries_code_label_and_libelle(client):
    [item] = client.get(reverse("referentiels:formacodes"), {"q": "22454"}).json()["results"]
    assert item == {"code": "22454", "libelle": "Soudage", "label": "22454 – Soudage"}
    [commune] = client.get(reverse("referentiels:communes"), {"q": "45234"}).json()["results"]
    assert commune["label"] == "Orléans (45) – 45000, 45100 – INSEE 45234"


def test_htmx_gets_an_html_fragment_of_escaped_options(client):
    response = client.get(reverse("referentiels:certifications"), {"q": "soudeur"}, headers={"HX-Request": "true"})
    assert response["Content-Type"].startswith("text/html")
    assert response.content.decode().strip() == (
        '<option value="RNCP34078">RNCP34078 – Soudeur assembleur industriel (niveau 3)</option>'
    )
    fragment = client.get(reverse("referentiels:formacodes"), {"q": "restauration", "format": "html"})
    assert "<option" in fragment.content.decode()


def test_label_with_markup_is_escaped(client):
    from ofeli.referentiels.models import Formacode

    Formacode.objects.create(code="99999", libelle="<script>alert(1)</script> soudure")
    html = client.get(reverse("referentiels:formacodes"), {"q": "99999", "format": "html"}).content.decode()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_views_are_open_and_marked_public(client):
    from django.urls import resolve

    for name in ["communes", "formacodes", "nsf", "romes", "certifications", "blocs"]:
        assert resolve(reverse(f"referentiels:{name}")).func.ofeli_gate == "public"
    assert client.post(reverse("referentiels:communes"), {"q": "orleans"}).status_code == 405
