"""Thin Huey tasks of the spreadsheet import: they call the domain functions by id."""

from huey.contrib.djhuey import db_task

from . import services


@db_task()
def analyser_tache(import_id: int):
    services.import_analyser(import_id)


@db_task()
def importer_tache(import_id: int):
    services.import_executer(import_id)
