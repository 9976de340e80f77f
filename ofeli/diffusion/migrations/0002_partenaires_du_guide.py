"""Seeds the partners the user guide lists ("Où s'affiche l'offre de formation référencée sur OFeli ?").

The regional site's name comes from the region's configuration (current_region().site_public).
What each receives (see ofeli/diffusion/partenaires.py, PARTENAIRES_DU_GUIDE) can be changed by the équipe
offre on the partner screens.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from ofeli.diffusion.partenaires import partenaires_du_guide

    Partenaire = apps.get_model("diffusion", "Partenaire")
    for data in partenaires_du_guide():
        Partenaire.objects.get_or_create(slug=data["slug"], defaults=data)


class Migration(migrations.Migration):
    dependencies = [("diffusion", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
