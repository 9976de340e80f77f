import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ofeli.organismes.models import Adresse


class Civilite(models.TextChoices):
    MADAME = "mme", "Madame"
    MONSIEUR = "m", "Monsieur"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("Une adresse e-mail est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with their e-mail.

    An OF contact is a User with one Contact row per organisme (ofeli.organismes); a member of
    the GIP's équipe offre is a User with is_staff.
    """

    email = models.EmailField("adresse e-mail", max_length=254, unique=True)
    civilite = models.CharField("civilité", max_length=3, choices=Civilite.choices, blank=True)
    first_name = models.CharField("prénom", max_length=50, blank=True)
    last_name = models.CharField("nom", max_length=50, blank=True)
    telephone = models.CharField("téléphone", max_length=25, blank=True)
    is_staff = models.BooleanField("équipe offre du GIP", default=False)
    is_active = models.BooleanField("actif", default=True)
    date_joined = models.DateTimeField("créé le", default=timezone.now)
    anonymised_at = models.DateTimeField("anonymisé le", null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "utilisateur"
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email


class CleActivation(models.Model):
    """A single-use activation key: the link on which a contact chooses their password.

    Only a SHA-256 hash of the token is stored; the token itself is in the e-mail alone.
    Valid until `expires_at` (settings.OFELI_ACTIVATION_KEY_VALIDITY), used once (`used_at`),
    revoked when a newer key is sent to the same user (`revoked_at`).
    """

    class Kind(models.TextChoices):
        DEMANDE = "demande", "Demande de compte acceptée"
        INVITATION = "invitation", "Invitation d'un contact"
        RENVOI = "renvoi", "Nouvelle clé"

    token_hash = models.CharField("empreinte de la clé", max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        "accounts.User", verbose_name="utilisateur", on_delete=models.CASCADE, related_name="cles_activation"
    )
    organisme = models.ForeignKey(
        "organismes.Organisme",
        verbose_name="organisme",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField("nature", max_length=12, choices=Kind.choices, default=Kind.DEMANDE)
    created_at = models.DateTimeField("envoyée le", default=timezone.now)
    expires_at = models.DateTimeField("expire le")
    used_at = models.DateTimeField("utilisée le", null=True, blank=True)
    revoked_at = models.DateTimeField("remplacée le", null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name="envoyée par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "clé d'activation"
        verbose_name_plural = "clés d'activation"
        ordering = ["-created_at"]

    def __str__(self):
        return f"Clé d'activation de {self.user} ({self.get_kind_display()})"

    @property
    def est_utilisee(self) -> bool:
        return self.used_at is not None

    @property
    def est_expiree(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def est_valide(self) -> bool:
        return self.used_at is None and self.revoked_at is None and not self.est_expiree


def _convention_upload_to(instance, filename):
    """A random name in the private storage: the file name the requester gave is not kept on disk."""
    return f"demandes-compte/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.pdf"


class DemandeCompte(Adresse):
    """A request, from the public form "Créer un compte", to register an organisme in OFeli.

    Nothing is created until the GIP accepts it (services.demande_compte_accepter).
    """

    class Statut(models.TextChoices):
        EN_ATTENTE = "en_attente", "En attente"
        ACCEPTEE = "acceptee", "Acceptée"
        REFUSEE = "refusee", "Refusée"

    nda = models.CharField("numéro de déclaration d'activité", max_length=11)
    siret = models.CharField("SIRET", max_length=14)
    raison_sociale = models.CharField("raison sociale", max_length=250)
    civilite = models.CharField("civilité", max_length=3, choices=Civilite.choices)
    nom = models.CharField("nom", max_length=50)
    prenom = models.CharField("prénom", max_length=50)
    email = models.EmailField("adresse e-mail", max_length=254)
    telephone = models.CharField("téléphone", max_length=25)
    consentement_at = models.DateTimeField("consentement aux données personnelles le")
    convention = models.FileField(
        "convention de formation (PDF)", upload_to=_convention_upload_to, max_length=200, blank=True
    )
    convention_nom = models.CharField("nom du fichier de la convention", max_length=200, blank=True)
    statut = models.CharField(max_length=12, choices=Statut.choices, default=Statut.EN_ATTENTE, db_index=True)
    motif = models.TextField("motif du refus", blank=True)
    traitee_par = models.ForeignKey(
        User, verbose_name="traitée par", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    traitee_le = models.DateTimeField("traitée le", null=True, blank=True)
    organisme = models.ForeignKey(
        "organismes.Organisme",
        verbose_name="organisme créé",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("reçue le", default=timezone.now)

    history = HistoricalRecords(excluded_fields=["convention"])

    class Meta:
        verbose_name = "demande de compte"
        verbose_name_plural = "demandes de compte"
        ordering = ["-created_at"]
        constraints = [
            # Two pending requests for one organisme would be processed twice: the database refuses it.
            models.UniqueConstraint(fields=["nda"], condition=Q(statut="en_attente"), name="demande_nda_en_attente"),
            models.UniqueConstraint(
                fields=["siret"], condition=Q(statut="en_attente"), name="demande_siret_en_attente"
            ),
        ]

    def __str__(self):
        return f"Demande de compte de {self.raison_sociale} ({self.get_statut_display()})"

    @property
    def contact_nom_complet(self) -> str:
        return f"{self.prenom} {self.nom}".strip()
