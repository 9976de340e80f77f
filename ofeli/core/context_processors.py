from django.conf import settings

from .menu import menu_for
from .region import current_region


def ofeli(request):
    return {"region": current_region(), "debug": settings.DEBUG, "menu": menu_for(request)}
