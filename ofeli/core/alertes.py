"""Errors that reach the équipe offre on its home page, until acknowledged or followed by a success.

- a nightly diffusion run in "échec", until a later run of the same partner and kind succeeds;
- an import in "erreur", until a later import of the same source ends ("terminé");
- links found broken by the link checker (`diffusion.liens`), while they stay broken; acknowledging
  them hides those found broken until that day, a link found broken later shows them again.

Acknowledging (`alerte_acquitter`) records who and when (core.AlerteAcquittee); nothing is deleted.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from .models import AlerteAcquittee

LISTE_MAX = 10


def _acquittee(type_):
    return Exists(AlerteAcquittee.objects.filter(type=type_, objet_id=OuterRef("pk")))


def runs_en_echec():
    from ofeli.diffusion.models import DiffusionRun

    succes_apres = DiffusionRun.objects.filter(
        partenaire_id=OuterRef("partenaire_id"),
        kind=OuterRef("kind"),
        statut=DiffusionRun.Statut.REUSSI,
        started_at__gt=OuterRef("started_at"),
    )
    return (
        DiffusionRun.objects.filter(statut=DiffusionRun.Statut.ECHEC)
        .exclude(Exists(succes_apres))
        .exclude(_acquittee(AlerteAcquittee.Type.DIFFUSION))
        .select_related("partenaire")
        .order_by("-started_at", "-pk")
    )


def imports_en_erreur():
    from ofeli.diffusion.models_imports import ImportRun

    termine_apres = ImportRun.objects.filter(
        source=OuterRef("source"), statut=ImportRun.Statut.TERMINE, created_at__gt=OuterRef("created_at")
    )
    return (
        ImportRun.objects.filter(statut=ImportRun.Statut.ERREUR)
        .exclude(Exists(termine_apres))
        .exclude(_acquittee(AlerteAcquittee.Type.IMPORT))
        .order_by("-created_at", "-pk")
    )


def _liens_acquittes_jusqu_au():
    dernier = AlerteAcquittee.objects.filter(type=AlerteAcquittee.Type.LIENS).order_by("-acquittee_at").first()
    return timezone.localdate(dernier.acquittee_at) if dernier else None


def liens_en_erreur_par_organisme():
    """Organismes with links broken now, the number of them, when none was acknowledged since it broke."""
    from ofeli.diffusion.models_imports import LienVerifie
    from ofeli.organismes.models import Organisme

    casses = LienVerifie.objects.filter(casse=True)
    jusqu_au = _liens_acquittes_jusqu_au()
    if jusqu_au and not casses.filter(Q(premier_echec__gt=jusqu_au) | Q(premier_echec__isnull=True)).exists():
        return Organisme.objects.none()
    return (
        Organisme.objects.filter(liens_verifies__casse=True)
        .annotate(nb_liens=Count("liens_verifies", filter=Q(liens_verifies__casse=True)))
        .order_by("-nb_liens", "raison_sociale")
    )


def alertes() -> dict:
    """What the staff home shows: each list cut at LISTE_MAX, with its total."""
    runs, imports, organismes = runs_en_echec(), imports_en_erreur(), liens_en_erreur_par_organisme()
    resultat = {
        "runs": list(runs[:LISTE_MAX]),
        "nb_runs": runs.count(),
        "imports": list(imports[:LISTE_MAX]),
        "nb_imports": imports.count(),
        "organismes_liens": list(organismes[:LISTE_MAX]),
        "nb_organismes_liens": organismes.count(),
    }
    resultat["nb_liens"] = sum(o.nb_liens for o in resultat["organismes_liens"])
    if resultat["nb_organismes_liens"] > LISTE_MAX:
        resultat["nb_liens"] = sum(o.nb_liens for o in organismes)
    resultat["total"] = resultat["nb_runs"] + resultat["nb_imports"] + resultat["nb_organismes_liens"]
    return resultat


def alerte_acquitter(*, cle: str, user) -> AlerteAcquittee:
    """Acknowledge one error of the staff home. `cle` is "diffusion:<run id>", "import:<import id>" or "liens"."""
    from ofeli.diffusion.models import DiffusionRun
    from ofeli.diffusion.models_imports import ImportRun

    if not getattr(user, "is_staff", False):
        raise ValidationError("Seule l'équipe offre peut acquitter une alerte.")
    type_, _, ident = (cle or "").partition(":")
    if type_ == AlerteAcquittee.Type.LIENS and not ident:
        objet_id = None
    elif type_ in (AlerteAcquittee.Type.DIFFUSION, AlerteAcquittee.Type.IMPORT) and ident.isdigit():
        objet_id = int(ident)
        modele, statut = (
            (DiffusionRun, DiffusionRun.Statut.ECHEC)
            if type_ == AlerteAcquittee.Type.DIFFUSION
            else (ImportRun, ImportRun.Statut.ERREUR)
        )
        if not modele.objects.filter(pk=objet_id, statut=statut).exists():
            raise ValidationError("Cette alerte n'existe plus : la page a été mise à jour.")
    else:
        raise ValidationError("Alerte inconnue : rechargez la page et réessayez.")
    with transaction.atomic():
        if objet_id is None:
            return AlerteAcquittee.objects.create(type=type_, acquittee_par=user)
        alerte, _ = AlerteAcquittee.objects.get_or_create(
            type=type_, objet_id=objet_id, defaults={"acquittee_par": user}
        )
    return alerte
