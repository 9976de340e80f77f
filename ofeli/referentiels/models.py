"""Referentials loaded from data files by `manage.py load_referentiels` (see ofeli/referentiels/data/)."""

from django.db import models

from .text import normaliser


class Recherchable(models.Model):
    """A referential entry with a normalised search column (no accents, lower case), kept up to date on save.

    The loaders (ofeli.referentiels.loaders) fill it in bulk; autocompletion filters on it, the same way on
    SQLite and PostgreSQL.
    """

    recherche = models.TextField(editable=False, default="")

    class Meta:
        abstract = True

    def texte_recherche(self) -> str:
        raise NotImplementedError

    def save(self, *args, **kwargs):
        self.recherche = normaliser(self.texte_recherche())
        super().save(*args, **kwargs)


class Region(models.Model):
    code = models.CharField(max_length=3, primary_key=True)
    nom = models.CharField(max_length=100)

    def __str__(self):
        return self.nom


class Departement(models.Model):
    code = models.CharField(max_length=3, primary_key=True)
    nom = models.CharField(max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="departements")

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} - {self.nom}"


class Commune(Recherchable):
    """A commune of the COG INSEE; code_insee is LHEO's code-INSEE-commune."""

    code_insee = models.CharField("code INSEE", max_length=5, primary_key=True)
    nom = models.CharField(max_length=100, db_index=True)
    departement = models.CharField("département", max_length=3, db_index=True)
    region = models.CharField("région", max_length=3)
    codes_postaux = models.JSONField("codes postaux", default=list)
    population = models.PositiveIntegerField(null=True, blank=True)
    actuelle = models.BooleanField(default=True, help_text="False for communes déléguées / associées")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["nom"]

    def __str__(self):
        return f"{self.nom} ({self.departement})"

    def texte_recherche(self) -> str:
        return " ".join([self.nom, self.code_insee, *self.codes_postaux])


class Formacode(Recherchable):
    code = models.CharField(max_length=5, primary_key=True)
    libelle = models.CharField("libellé", max_length=255)
    version = models.CharField(max_length=5, default="V14")

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.libelle}"

    def texte_recherche(self) -> str:
        return f"{self.code} {self.libelle}"


class NSF(Recherchable):
    code = models.CharField(max_length=3, primary_key=True)
    libelle = models.CharField("libellé", max_length=255)

    class Meta:
        ordering = ["code"]
        verbose_name = "NSF"

    def __str__(self):
        return f"{self.code} {self.libelle}"

    def texte_recherche(self) -> str:
        return f"{self.code} {self.libelle}"


class Rome(Recherchable):
    code = models.CharField(max_length=5, primary_key=True)
    libelle = models.CharField("libellé", max_length=255)

    class Meta:
        ordering = ["code"]
        verbose_name = "ROME"

    def __str__(self):
        return f"{self.code} {self.libelle}"

    def texte_recherche(self) -> str:
        return f"{self.code} {self.libelle}"


class CertifInfo(models.Model):
    code = models.CharField(max_length=10, primary_key=True)
    libelle = models.TextField("libellé")

    def __str__(self):
        return f"{self.code} {self.libelle}"


class Certification(Recherchable):
    """A certification of France Compétences' registers: RNCP or RS."""

    class Type(models.TextChoices):
        RNCP = "RNCP", "RNCP"
        RS = "RS", "Répertoire spécifique"

    type = models.CharField(max_length=4, choices=Type.choices)
    code = models.CharField(max_length=12, unique=True, help_text="RNCP12345 or RS1234")
    intitule = models.CharField("intitulé", max_length=500)
    niveau = models.CharField(max_length=10, blank=True)
    actif = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} - {self.intitule}"

    def texte_recherche(self) -> str:
        return f"{self.code} {self.intitule}"


class BlocCompetences(models.Model):
    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="blocs")
    code = models.CharField(max_length=40, unique=True, help_text="RNCP40344BC01")
    libelle = models.CharField("libellé", max_length=500)

    class Meta:
        ordering = ["code"]
        verbose_name = "bloc de compétences"
        verbose_name_plural = "blocs de compétences"

    def __str__(self):
        return f"{self.code} {self.libelle}"
