"""Thin Huey task: fetches by id and calls the domain function (design note 6)."""

from huey.contrib.djhuey import db_task

from .services import export_construire


@db_task()
def export_construire_task(export_id: int) -> None:
    export_construire(export_id)
