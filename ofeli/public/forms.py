"""The public search form: what a visitor may ask of the validated offer, checked, in French.

A GET form (its fields are the URL's parameters, so a search can be bookmarked). It builds the
criteria of ofeli.recherche.query (engine F) for documents of kind "publication".
Where: département of the region, a commune (code INSEE or name), and optionally a distance from that
commune ("à moins de N km": the communes whose centre is within N km of its centre, ofeli.referentiels.geo).
"""

import re

from django import forms

from ofeli.core.region import current_region
from ofeli.offre.models import Dispositif
from ofeli.recherche.query import Criteres, Tri
from ofeli.referentiels.geo import centres, communes_a_moins_de
from ofeli.referentiels.models import Commune, Departement

TRIS = [
    (Tri.PERTINENCE, "Pertinence"),
    (Tri.PROCHAINE_SESSION, "Prochaine session"),
    (Tri.INTITULE, "Intitulé (A → Z)"),
]
DISTANCES = [("", "Dans la commune")] + [(str(km), f"À moins de {km} km") for km in (5, 10, 20, 30, 50, 100)]
FINANCEMENTS = [("", "Tous"), ("fonds_publics", "Financement public (Région, France Travail, État)")] + [
    (v, label) for v, label in Dispositif.choices
]


def _departements():
    region = current_region()
    noms = dict(Departement.objects.filter(code__in=region.departements).values_list("code", "nom"))
    return [("", "Tous")] + [(code, f"{noms[code]} ({code})" if code in noms else code) for code in region.departements]


class RecherchePubliqueForm(forms.Form):
    q = forms.CharField(
        label="Mots-clés",
        required=False,
        max_length=200,
        help_text="Métier, domaine, diplôme… Accents, majuscules et pluriels indifférents.",
    )
    departement = forms.ChoiceField(label="Département", required=False)
    commune = forms.CharField(
        label="Commune", required=False, max_length=100, help_text="Nom ou code INSEE de la commune du lieu."
    )
    distance = forms.TypedChoiceField(
        label="Distance",
        choices=DISTANCES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text="Autour de la commune indiquée (distance entre les centres des communes, à vol d'oiseau).",
    )
    debut_apres = forms.DateField(
        label="Session débutant à partir du",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="JJ/MM/AAAA",
    )
    debut_avant = forms.DateField(
        label="Session débutant jusqu'au",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="JJ/MM/AAAA",
    )
    financement = forms.ChoiceField(label="Financement", choices=FINANCEMENTS, required=False)
    certifiante = forms.BooleanField(label="Formations certifiantes seulement", required=False)
    a_distance = forms.BooleanField(label="Formations entièrement à distance seulement", required=False)
    terminees = forms.BooleanField(label="Afficher aussi les sessions terminées", required=False)
    tri = forms.ChoiceField(label="Trier par", choices=TRIS, required=False)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["departement"].choices = _departements()

    def clean_commune(self):
        saisie = " ".join((self.cleaned_data.get("commune") or "").split())
        if not saisie:
            return []
        if re.fullmatch(r"\d[0-9AB]\d{3}", saisie.upper()):
            codes = list(Commune.objects.filter(code_insee=saisie.upper()).values_list("code_insee", flat=True))
        else:
            codes = list(Commune.objects.filter(nom__iexact=saisie).values_list("code_insee", flat=True)[:50])
        if not codes:
            raise forms.ValidationError("Commune inconnue : %(saisie)s.", params={"saisie": saisie}, code="inconnue")
        return codes

    def clean(self):
        data = super().clean()
        apres, avant = data.get("debut_apres"), data.get("debut_avant")
        if apres and avant and apres > avant:
            self.add_error("debut_avant", "Cette date doit être postérieure ou égale à la date « à partir du ».")
        distance, communes = data.get("distance"), data.get("commune")
        if distance and "commune" not in self.errors:
            if not communes:
                self.add_error("commune", "Indiquez la commune autour de laquelle chercher.")
            elif not centres(communes):
                self.add_error("distance", "La position de cette commune n'est pas connue : cherchez dans la commune.")
            else:
                data["commune"] = communes_a_moins_de(communes, distance)
        return data

    def criteres(self) -> Criteres:
        d = self.cleaned_data
        financement = d.get("financement") or ""
        return Criteres(
            texte=d.get("q", ""),
            departements=[d["departement"]] if d.get("departement") else [],
            communes=d.get("commune", []),
            dispositifs=[financement] if financement and financement != "fonds_publics" else [],
            fonds_publics=True if financement == "fonds_publics" else None,
            certifiante=True if d.get("certifiante") else None,
            a_distance=True if d.get("a_distance") else None,
            debut_apres=d.get("debut_apres"),
            debut_avant=d.get("debut_avant"),
            tri=d.get("tri") or Tri.PERTINENCE,
        )
