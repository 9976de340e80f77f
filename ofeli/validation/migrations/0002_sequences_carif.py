"""PostgreSQL: one sequence per kind of Carif number (docs/decisions/validation-numeros-carif.md).

`nextval` waits for no other transaction: two staff validating at once no longer queue behind the first one's
commit, as they did on the counter row. A counter already in use carries on: its sequence starts where it
stopped. SQLite keeps the Compteur rows (its writes are one at a time anyway).
"""

from django.db import migrations

OBJETS = ("formation", "action", "session")


def creer(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Compteur = apps.get_model("validation", "Compteur")
    for objet in OBJETS:
        sequence = f"validation_carif_{objet}"
        schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {sequence} AS bigint MINVALUE 1")
        compteur = Compteur.objects.filter(nom=f"carif_{objet}").first()
        if compteur and compteur.valeur > 0:
            schema_editor.execute("SELECT setval(%s, %s, true)", [sequence, compteur.valeur])


def supprimer(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Compteur = apps.get_model("validation", "Compteur")
    with schema_editor.connection.cursor() as cursor:
        for objet in OBJETS:
            sequence = f"validation_carif_{objet}"
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608  # nosec B608  # constant names
            valeur, appelee = cursor.fetchone()
            if appelee:  # the counter carries on where the sequence stopped
                Compteur.objects.update_or_create(nom=f"carif_{objet}", defaults={"valeur": valeur})
            cursor.execute(f"DROP SEQUENCE {sequence}")


class Migration(migrations.Migration):
    dependencies = [("validation", "0001_initial")]

    operations = [migrations.RunPython(creer, supprimer)]
