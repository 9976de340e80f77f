"""Thin Huey tasks of the campaigns and reminders (design note 6): they fetch by id and call the domain functions.

The reminders run each day at 07:00 Europe/Paris (whatever the worker's clock setting); the period rules of
ofeli.campagnes.rappels make sure an OF gets at most one digest a week.
"""

from huey.contrib.djhuey import db_periodic_task, db_task

from ofeli.core.horaires import chaque_jour_a

HEURE_RAPPELS = 7


a_sept_heures_paris = chaque_jour_a(HEURE_RAPPELS)


@db_periodic_task(a_sept_heures_paris)
def rappels_quotidiens() -> None:
    from .rappels import envoyer_rappels

    envoyer_rappels()


@db_task(retries=3, retry_delay=300)
def campagne_notifier_task(campagne_id: int) -> None:
    from .models import Campagne
    from .services import notifier_participants

    campagne = Campagne.objects.filter(pk=campagne_id).first()
    if campagne is not None:
        notifier_participants(campagne=campagne)


@db_task(retries=3, retry_delay=300)
def campagne_relancer_task(campagne_id: int, user_id: int) -> None:
    from ofeli.accounts.models import User

    from .models import Campagne
    from .services import relancer_non_confirmes

    campagne = Campagne.objects.filter(pk=campagne_id).first()
    user = User.objects.filter(pk=user_id).first()
    if campagne is not None and user is not None and campagne.ouverte:
        relancer_non_confirmes(campagne=campagne, user=user)
