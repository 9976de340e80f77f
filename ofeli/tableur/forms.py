from django import forms

from . import lecture


class DepotForm(forms.Form):
    fichier = forms.FileField(
        label="Fichier Excel (.xlsx)",
        help_text="Le modèle OFeli rempli, l'export Excel de vos formations modifié, ou le tableur de votre outil "
        "enregistré au format .xlsx.",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )


IGNORER = ("", "— Ne pas importer cette colonne —")


class CorrespondanceForm(forms.Form):
    """One choice per column of the file: the OFeli column it fills (or none)."""

    def __init__(self, *args, entetes: list[str], initiales: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.entetes = entetes
        choix = [IGNORER] + [(cible, lecture.cible_libelle(cible)) for cible in lecture.CIBLES]
        for index, entete in enumerate(entetes):
            if not entete:
                continue
            self.fields[f"colonne_{index}"] = forms.ChoiceField(
                label=entete, choices=choix, required=False, initial=initiales.get(index, "")
            )

    def colonnes(self) -> dict[int, str]:
        return {int(nom.removeprefix("colonne_")): valeur for nom, valeur in self.cleaned_data.items() if valeur}
