"""Thin Huey tasks of the diffusion (design note 6): they fetch by id and call ofeli.diffusion.feeds.

The nightly task runs at 02:00 Europe/Paris whatever the worker's clock setting (UTC or local): its schedule
is a function of the time Huey passes, converted to Paris time.
"""

import datetime

from huey.contrib.djhuey import db_periodic_task, db_task

from ofeli.core.horaires import PARIS, chaque_jour_a

from .feeds import diffuser_partenaire
from .models import Partenaire

HEURE_DIFFUSION = 2


a_deux_heures_paris = chaque_jour_a(HEURE_DIFFUSION)


@db_task(retries=3, retry_delay=600)
def diffuser_partenaire_task(partenaire_id: int, nuit: str, user_id: int | None = None) -> None:
    from ofeli.accounts.models import User

    user = User.objects.filter(pk=user_id).first() if user_id else None
    diffuser_partenaire(
        partenaire=Partenaire.objects.get(pk=partenaire_id), nuit=datetime.date.fromisoformat(nuit), user=user
    )


@db_periodic_task(a_deux_heures_paris)
def diffusion_nocturne() -> None:
    nuit = datetime.datetime.now(PARIS).date()
    for partenaire_id in Partenaire.objects.filter(actif=True).values_list("pk", flat=True):
        diffuser_partenaire_task(partenaire_id, nuit.isoformat())


# Huey discovers only `tasks` modules: the imports and link-checker tasks live beside.
from .tasks_imports import *  # noqa: E402, F403
