"""The offer, in LHEO's three levels: Formation > Action > Session.

These tables hold the working copy: what the OF sees and edits, in whatever state. What was
validated and is diffused is kept apart as publications (ofeli.validation). The screens fold
the action into the session (one action per session entered in OFeli); imported feeds may
have several sessions per action, and the data keeps LHEO's three levels.

Writes go through ofeli.offre.services (one named function per write); rules live in
ofeli.offre.rules; the workflow (states and transitions) in ofeli.validation.workflow.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Etat(models.TextChoices):
    """Workflow state of a formation or a session (the guide's "État" column)."""

    BROUILLON = "brouillon", "Brouillon"
    EN_ATTENTE = "en_attente", "En attente de validation"
    COMPLEMENT = "complement", "En attente complément d'information"
    VALIDEE = "validee", "Validée (diffusée)"
    NON_DIFFUSEE = "non_diffusee", "Non diffusée"
    ARCHIVE_OF = "archive_of", "Archive OF"


class Source(models.TextChoices):
    """Where the offer comes from: decides what the OF may do with it."""

    OF = "of", "Organisme de formation"
    APPRENTISSAGE = "apprentissage", "Apprentissage (collecte du GIP)"
    SCOLAIRE = "scolaire", "Scolaire (collecte du GIP)"
    REGION = "region", "Région (EOS)"
    AFC = "afc", "France Travail (AFC conventionnées)"
    POEC = "poec", "France Travail (POEC)"


# What an OF may do, by source (guide: "Quelles formations référencer" / "à ne pas saisir").
SOURCES_SAISIE_LIBRE = {Source.OF}
SOURCES_SESSIONS_SEULEMENT = {Source.APPRENTISSAGE, Source.SCOLAIRE}
SOURCES_LECTURE_SEULE = {Source.REGION, Source.AFC, Source.POEC}


class Dispositif(models.TextChoices):
    ENTREPRISE_PARTICULIER = "entreprise_particulier", "Entreprise ou particulier"
    AIF = "aif", "AIF (Aide individuelle à la formation)"
    CONTRAT_PRO = "contrat_pro", "Contrat de professionnalisation"
    APPRENTISSAGE = "apprentissage", "Apprentissage"
    SCOLAIRE = "scolaire", "Scolaire"
    REGION = "region", "Région"
    AFC = "afc", "AFC (Action de formation conventionnée)"
    POEC = "poec", "POEC"
    POEI = "poei", "POEI"
    CPF = "cpf", "CPF"
    AUTRE = "autre", "Autre"


# Dispositifs funded by public money: "Formations fonds publics diffusées".
DISPOSITIFS_FONDS_PUBLICS = {Dispositif.AIF, Dispositif.REGION, Dispositif.AFC, Dispositif.POEC, Dispositif.POEI}


class Parcours(models.IntegerChoices):  # LHEO dict-type-parcours
    GROUPE = 1, "En groupe (non personnalisable)"
    INDIVIDUALISE = 2, "Individualisé"
    MODULARISE = 3, "Modularisé"
    MIXTE = 4, "Mixte"


class Niveau(models.IntegerChoices):  # LHEO dict-niveaux (2019 nomenclature + the two general codes)
    NON_COMMUNIQUE = 0, "Information non communiquée"
    SANS_NIVEAU = 1, "Sans niveau spécifique"
    NIVEAU_1 = 11, "Niveau 1 (savoirs de base)"
    NIVEAU_2 = 12, "Niveau 2"
    NIVEAU_3 = 13, "Niveau 3 (CAP, BEP)"
    NIVEAU_4 = 14, "Niveau 4 (Bac)"
    NIVEAU_5 = 15, "Niveau 5 (Bac+2 : BTS, DUT)"
    NIVEAU_6 = 16, "Niveau 6 (Bac+3 : licence, BUT)"
    NIVEAU_7 = 17, "Niveau 7 (Bac+5 : master)"
    NIVEAU_8 = 18, "Niveau 8 (doctorat)"


class ObjectifGeneral(models.IntegerChoices):  # LHEO dict-AIS
    CERTIFICATION = 6, "Certification"
    PROFESSIONNALISATION = 7, "Professionnalisation"
    PREPARATION_QUALIFICATION = 8, "Préparation à la qualification"
    REMISE_A_NIVEAU = 5, "Remise à niveau, maîtrise des savoirs de base, initiation"
    MOBILISATION = 9, "(Re)mobilisation, aide à l'élaboration de projet professionnel"
    PERFECTIONNEMENT = 2, "Perfectionnement, élargissement des compétences"
    CREATION_ENTREPRISE = 4, "Création d'entreprise"


class ModalitesEnseignement(models.IntegerChoices):  # LHEO dict-modalites-enseignement
    PRESENTIEL = 0, "Formation entièrement présentielle"
    MIXTE = 1, "Formation mixte"
    A_DISTANCE = 2, "Formation entièrement à distance"


class EtatRecrutement(models.IntegerChoices):  # LHEO dict-etat-recrutement
    OUVERT = 1, "Ouvert"
    FERME = 2, "Fermé"
    SUSPENDU = 3, "Suspendu"


class Workflow(models.Model):
    """Fields shared by the objects that go through the GIP's validation."""

    etat = models.CharField("état", max_length=20, choices=Etat.choices, default=Etat.BROUILLON, db_index=True)
    numero = models.CharField("numéro Carif", max_length=20, unique=True, null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="optimistic lock: +1 on every save")
    soumise_at = models.DateTimeField("soumise le", null=True, blank=True, db_index=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("mise à jour le", auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_ref = models.CharField("identifiant dans la source", max_length=100, blank=True, db_index=True)
    extras = models.JSONField("extras LHEO", default=dict, blank=True)

    class Meta:
        abstract = True


class Formation(Workflow):
    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.PROTECT, related_name="formations")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.OF, db_index=True)
    intitule = models.CharField("intitulé", max_length=255)
    objectif = models.TextField("objectif", max_length=3000)
    resultats_attendus = models.TextField("résultats attendus", max_length=3000)
    contenu = models.TextField("contenu", max_length=3000)
    certifiante = models.BooleanField(default=False)
    certifications = models.ManyToManyField("referentiels.Certification", blank=True, related_name="formations")
    formacodes = models.ManyToManyField("referentiels.Formacode", blank=True, related_name="formations")
    nsf = models.ManyToManyField("referentiels.NSF", blank=True, related_name="formations", verbose_name="NSF")
    romes = models.ManyToManyField("referentiels.Rome", blank=True, related_name="formations", verbose_name="ROME")
    parcours = models.PositiveSmallIntegerField(
        "parcours de formation", choices=Parcours.choices, default=Parcours.GROUPE
    )
    niveau_entree = models.PositiveSmallIntegerField(
        "niveau d'entrée", choices=Niveau.choices, default=Niveau.SANS_NIVEAU
    )
    niveau_sortie = models.PositiveSmallIntegerField("niveau de sortie", choices=Niveau.choices, null=True, blank=True)
    objectif_general = models.PositiveSmallIntegerField(
        "objectif général", choices=ObjectifGeneral.choices, null=True, blank=True
    )
    url = models.URLField("site internet de la formation", max_length=400, blank=True)
    contacts = models.ManyToManyField("organismes.Contact", blank=True, related_name="formations")

    history = HistoricalRecords(m2m_fields=[certifications, formacodes, nsf, romes])

    class Meta:
        ordering = ["intitule"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_ref"], condition=~models.Q(source_ref=""), name="formation_source_ref_unique"
            )
        ]
        indexes = [
            # "Mes formations": an OF's formations, latest update first, a page at a time.
            models.Index(fields=["organisme", "-updated_at"], name="formation_organisme_maj"),
            # The review queue (ofeli.validation.services): formations en suspens, read from the index alone.
            models.Index(
                fields=["id"],
                include=["etat", "soumise_at", "updated_at", "organisme"],
                condition=models.Q(etat__in=["en_attente", "complement"]),
                name="formation_en_suspens",
            ),
        ]

    def __str__(self):
        return self.intitule


class Action(Workflow):
    """LHEO action: one way a formation is delivered (place, pace, public, price, funding)."""

    formation = models.ForeignKey(Formation, on_delete=models.CASCADE, related_name="actions")
    dispositif = models.CharField(
        max_length=30, choices=Dispositif.choices, default=Dispositif.ENTREPRISE_PARTICULIER, db_index=True
    )
    numero_marche = models.CharField("numéro de marché", max_length=50, blank=True)
    rythme = models.TextField("rythme de la formation", max_length=3000)
    public_vise = models.JSONField("publics visés (codes Formacode)", default=list)
    info_public_vise = models.CharField("précisions sur le public", max_length=250, blank=True)
    niveau_entree_obligatoire = models.BooleanField("niveau d'entrée obligatoire", default=False)
    modalites_alternance = models.TextField("modalités de l'alternance", max_length=3000, blank=True)
    modalites_enseignement = models.PositiveSmallIntegerField(
        "modalités d'enseignement", choices=ModalitesEnseignement.choices, default=ModalitesEnseignement.PRESENTIEL
    )
    conditions_specifiques = models.TextField("conditions spécifiques et prérequis", max_length=3000, blank=True)
    prise_en_charge_frais_possible = models.BooleanField("prise en charge des frais possible", default=False)
    entree_sortie_permanente = models.BooleanField("entrée sortie permanente", default=False)
    lieux = models.ManyToManyField("organismes.Lieu", blank=True, related_name="actions")
    organisme_formateur = models.ForeignKey(
        "organismes.OrganismeFormateur", on_delete=models.PROTECT, null=True, blank=True, related_name="actions"
    )
    prix_total_ttc = models.DecimalField("prix total TTC (€)", max_digits=9, decimal_places=2, null=True, blank=True)
    prix_horaire_ttc = models.DecimalField(
        "prix horaire TTC (€)", max_digits=6, decimal_places=2, null=True, blank=True
    )
    detail_conditions_prise_en_charge = models.CharField(max_length=600, blank=True)
    duree_indicative = models.CharField("durée indicative", max_length=150, blank=True)
    nombre_heures_centre = models.PositiveIntegerField("heures en centre", null=True, blank=True)
    nombre_heures_entreprise = models.PositiveIntegerField("heures en entreprise", null=True, blank=True)
    nombre_heures_total = models.PositiveIntegerField("durée totale (heures)", null=True, blank=True)
    financeurs = models.JSONField("financeurs (codes LHEO)", default=list, blank=True)
    langue = models.CharField("langue", max_length=2, default="FR")
    modalites_recrutement = models.TextField("modalités de recrutement", max_length=3000, blank=True)
    modalites_pedagogiques = models.CharField("modalités pédagogiques", max_length=200, blank=True)
    url = models.URLField("site internet de l'action", max_length=400, blank=True)
    acces_handicapes = models.CharField("accès handicapés", max_length=250, blank=True)

    history = HistoricalRecords(m2m_fields=[lieux])

    class Meta:
        ordering = ["id"]
        indexes = [
            # The review queue joins pending sessions to their action's formation and dispositif: from this
            # narrow index rather than from the action rows.
            models.Index(fields=["id"], include=["formation", "dispositif"], name="action_formation_dispositif"),
        ]

    def __str__(self):
        return f"{self.formation} — {self.get_dispositif_display()}"


class Session(Workflow):
    class Meta:
        ordering = ["debut", "id"]
        indexes = [
            # The review queue (ofeli.validation.services): pending sessions, read from the index alone.
            models.Index(
                fields=["action", "id"],
                include=["soumise_at", "updated_at", "numero"],
                condition=models.Q(etat="en_attente"),
                name="session_en_attente",
            ),
        ]

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="sessions")
    debut = models.DateField("date de début")
    fin = models.DateField("date de fin")
    inscription_debut = models.DateField("début des inscriptions", null=True, blank=True)
    inscription_fin = models.DateField("fin des inscriptions", null=True, blank=True)
    etat_recrutement = models.PositiveSmallIntegerField(
        "état du recrutement", choices=EtatRecrutement.choices, default=EtatRecrutement.OUVERT
    )
    places_restantes = models.PositiveIntegerField("places restantes", null=True, blank=True)
    places_date = models.DateField("places restantes indiquées le", null=True, blank=True)
    adresse_inscription = models.ForeignKey(
        "organismes.Lieu",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="adresse d'inscription",
    )
    modalites_inscription = models.CharField("modalités d'inscription", max_length=255, blank=True)
    contacts = models.ManyToManyField("organismes.Contact", through="SessionContact", blank=True, related_name="+")
    blocs = models.ManyToManyField("referentiels.BlocCompetences", blank=True, related_name="sessions")
    url = models.URLField("site internet de la session", max_length=400, blank=True)

    history = HistoricalRecords(m2m_fields=[blocs])

    def __str__(self):
        return f"{self.numero or 'Session'} ({self.debut:%d/%m/%Y} - {self.fin:%d/%m/%Y})"

    @property
    def formation(self):
        return self.action.formation


class SessionContact(models.Model):
    class Role(models.TextChoices):
        INFORMATION = "information", "Information"
        INSCRIPTION = "inscription", "Inscription"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="session_contacts")
    contact = models.ForeignKey("organismes.Contact", on_delete=models.PROTECT, related_name="session_contacts")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.INFORMATION)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "contact", "role"], name="session_contact_unique")]

    def __str__(self):
        return f"{self.contact} ({self.get_role_display()})"


class PieceJointe(models.Model):
    """A private attachment (PDF or image), served only through the gate (design note 7)."""

    class Nature(models.TextChoices):
        AGREMENT_CERTIFICATION = "agrement", "Agrément de l'organisme valideur (formation certifiante)"
        CONVENTION_FORMATION = "convention", "Convention de formation (lieu en région)"
        AUTRE = "autre", "Autre"

    organisme = models.ForeignKey("organismes.Organisme", on_delete=models.PROTECT, related_name="pieces_jointes")
    formation = models.ForeignKey(
        Formation, on_delete=models.CASCADE, null=True, blank=True, related_name="pieces_jointes"
    )
    session = models.ForeignKey(Session, on_delete=models.CASCADE, null=True, blank=True, related_name="pieces_jointes")
    nature = models.CharField(max_length=20, choices=Nature.choices)
    fichier = models.FileField(upload_to="offre/%Y/%m/")
    nom_original = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    taille = models.PositiveIntegerField()
    commune_lieu = models.ForeignKey(
        "referentiels.Commune",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="commune du lieu de formation précisé par la convention",
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"

    def __str__(self):
        return self.nom_original


class Reconduction(models.Model):
    """Where a session carried forward to the next year comes from (ofeli.offre.reconduction).

    One row per (session d'origine, année cible): carrying the same session to the same year again
    creates nothing (the unique constraint holds even for two runs at the same time).
    """

    origine = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="reconductions")
    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="reconduite_de")
    annee = models.PositiveSmallIntegerField("année cible")
    created_at = models.DateTimeField("reconduite le", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["origine", "annee"], name="reconduction_unique_annee")]

    def __str__(self):
        return f"{self.origine_id} → {self.session_id} ({self.annee})"
