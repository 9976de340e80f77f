"""core/_field.html: every field is named for assistive technologies, a group of choices by a legend."""

from django import forms
from django.template.loader import render_to_string
from lxml import html


class Formulaire(forms.Form):
    nom = forms.CharField(label="Nom", help_text="Tel qu'il figure sur le Kbis")
    accepte = forms.BooleanField(label="J'accepte", required=False)
    dispositifs = forms.MultipleChoiceField(
        label="Dispositifs transmis",
        choices=[("cpf", "CPF"), ("aif", "AIF")],
        widget=forms.CheckboxSelectMultiple,
        help_text="Cochez au moins un dispositif",
    )
    niveau = forms.ChoiceField(label="Niveau", choices=[("3", "3"), ("4", "4")], widget=forms.RadioSelect)


def _page(form):
    return html.fromstring(render_to_string("core/_form.html", {"form": form}))


def test_a_group_of_checkboxes_or_radios_is_a_fieldset_named_by_its_legend():
    doc = _page(Formulaire(data={"nom": "x"}))
    legends = {fs.find("legend").text_content().strip(): fs for fs in doc.iter("fieldset")}
    assert sorted(k.split(" *")[0] for k in legends) == ["Dispositifs transmis", "Niveau"]
    assert all(k.endswith("(obligatoire)") for k in legends)
    groupe = legends[next(k for k in legends if k.startswith("Dispositifs"))]
    # each choice keeps its own label, the group's errors and help are tied to the fieldset
    assert [lbl.text_content().strip() for lbl in groupe.iter("label")] == ["CPF", "AIF"]
    decrit = groupe.get("aria-describedby").split()
    assert decrit == ["id_dispositifs-aide", "id_dispositifs-erreurs"]
    assert all(doc.get_element_by_id(i) is not None for i in decrit)
    # no <label for=...> pointing at the group's container any more
    assert not doc.xpath("//label[@for='id_dispositifs' or @for='id_niveau']")


def test_single_fields_keep_their_label():
    doc = _page(Formulaire())
    assert doc.xpath("//label[@for='id_nom']")[0].text_content().startswith("Nom")
    assert doc.xpath("//label[@for='id_accepte']")[0].text_content().strip() == "J'accepte"
    assert doc.get_element_by_id("id_nom").get("aria-describedby") == "id_nom-aide"
