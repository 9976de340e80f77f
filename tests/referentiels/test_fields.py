import pytest
from django import forms
from django.http import QueryDict

from ofeli.referentiels.fields import CodesField, CommuneField
from ofeli.referentiels.models import NSF, Certification, Commune, Formacode, Rome

pytestmark = pytest.mark.usefixtures("referentiels")


class CodesForm(forms.Form):
    formacodes = CodesField(model=Formacode, max=5, label="Formacode")
    nsf = CodesField(model=NSF, max=3, required=False)
    romes = CodesField(model=Rome, max=5, required=False)
    certifications = CodesField(model=Certification, required=False, queryset=Certification.objects.filter(actif=True))
    commune = CommuneField(required=False)


def clean(**data):
    form = CodesForm(data=data)
    form.is_valid()
    return form


def test_codes_separated_by_commas_semicolons_or_spaces_in_typed_order_without_duplicates():
    form = clean(formacodes="22454, 31054;15234  22454")
    assert form.is_valid(), form.errors
    assert [f.code for f in form.cleaned_data["formacodes"]] == ["22454", "31054", "15234"]


def test_codes_sent_as_several_values():
    form = CodesForm(data=QueryDict("formacodes=22454&formacodes=31054"))
    assert form.is_valid(), form.errors
    assert [f.code for f in form.cleaned_data["formacodes"]] == ["22454", "31054"]


def test_unknown_codes_are_listed_in_french():
    assert clean(formacodes="22454, 99999").errors["formacodes"] == ["Code Formacode inconnu : 99999."]
    assert clean(formacodes="99998 99999").errors["formacodes"] == ["Codes Formacode inconnus : 99998, 99999."]
    assert clean(formacodes="22454", romes="f1604 Z9999").errors["romes"] == ["Code ROME inconnu : Z9999."]


def test_max_and_required():
    form = clean(formacodes="22454 31054 15234 15235 15236 21046")
    assert form.errors["formacodes"] == ["5 codes Formacode au plus (6 saisis)."]
    assert form.errors.get("nsf") is None
    assert clean(formacodes="  ").errors["formacodes"] == ["Ce champ est obligatoire."]


def test_rome_codes_are_case_insensitive_and_certification_codes_are_normalised():
    form = clean(formacodes="22454", romes="f1604", certifications="rncp 34078, RS5192 35631")
    assert form.is_valid(), form.errors
    assert [r.code for r in form.cleaned_data["romes"]] == ["F1604"]
    assert [c.code for c in form.cleaned_data["certifications"]] == ["RNCP34078", "RS5192", "RNCP35631"]


def test_queryset_restricts_accepted_codes():
    assert clean(formacodes="22454", certifications="RNCP31115").errors["certifications"] == [
        "Code RNCP/RS inconnu : RNCP31115."
    ]


def test_commune_by_insee_code_label_or_unique_postal_code():
    assert clean(formacodes="22454", commune="45234").cleaned_data["commune"].nom == "Orléans"
    assert clean(formacodes="22454", commune="Orléans (45) – INSEE 45234").cleaned_data["commune"].nom == "Orléans"
    assert clean(formacodes="22454", commune="18000").cleaned_data["commune"].code_insee == "18033"
    assert clean(formacodes="22454", commune="").cleaned_data["commune"] is None


def test_commune_errors():
    assert clean(formacodes="22454", commune="99999").errors["commune"] == [
        "Commune inconnue : aucun code INSEE ni code postal 99999."
    ]
    assert (
        clean(formacodes="22454", commune="Orléans")
        .errors["commune"][0]
        .startswith("« Orléans » n'est pas un code INSEE")
    )
    ambiguous = clean(formacodes="22454", commune="18500").errors["commune"][0]
    assert ambiguous.startswith("Le code postal 18500 correspond à plusieurs communes : ")
    assert ambiguous.endswith("Indiquez le code INSEE.")


def test_widget_renders_codes_autocomplete_url_and_datalist():
    form = CodesForm(initial={"formacodes": list(Formacode.objects.filter(code__in=["22454", "31054"]))})
    html = str(form["formacodes"])
    assert 'value="22454, 31054"' in html
    assert 'data-autocomplete="/referentiels/formacodes/"' in html
    assert 'data-autocomplete-multiple="true"' in html
    assert 'list="id_formacodes-suggestions"' in html
    assert '<datalist id="id_formacodes-suggestions"></datalist>' in html
    commune_html = str(CodesForm(initial={"commune": Commune.objects.get(code_insee="45234")})["commune"])
    assert 'value="45234"' in commune_html
    assert 'data-autocomplete="/referentiels/communes/"' in commune_html
    assert "data-autocomplete-multiple" not in commune_html
    assert 'src="/static/ofeli/autocomplete.js" defer' in str(form.media)


def test_has_changed_compares_codes():
    initial = {"formacodes": list(Formacode.objects.filter(code__in=["22454", "31054"]).order_by("code"))}
    same = CodesForm(initial=initial, data={"formacodes": "22454,31054"})
    assert "formacodes" not in same.changed_data
    other = CodesForm(initial=initial, data={"formacodes": "22454"})
    assert "formacodes" in other.changed_data
    commune = CodesForm(initial={"commune": "45234"}, data={"formacodes": "22454", "commune": "Orléans (45234)"})
    assert "commune" not in commune.changed_data


def test_bound_form_with_errors_keeps_what_the_user_typed():
    form = clean(formacodes="22454, 99999")
    assert 'value="22454, 99999"' in str(form["formacodes"])


def test_model_form_saves_many_to_many_from_codes():
    from tests.factories import FormationFactory

    formation = FormationFactory()

    class FormationCodesForm(forms.ModelForm):
        formacodes = CodesField(model=Formacode, max=5)
        certifications = CodesField(model=Certification, required=False)

        class Meta:
            model = formation.__class__
            fields = ["formacodes", "certifications"]

    form = FormationCodesForm(data={"formacodes": "22454 31054", "certifications": "RNCP34078"}, instance=formation)
    assert form.is_valid(), form.errors
    form.save()
    assert set(formation.formacodes.values_list("code", flat=True)) == {"22454", "31054"}
    edit = FormationCodesForm(instance=formation)
    assert "22454" in str(edit["formacodes"]) and "RNCP34078" in str(edit["certifications"])
