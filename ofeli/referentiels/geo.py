"""Distances between communes, from the centre of each (Commune.latitude / longitude, data/PROVENANCE.md).

`communes_a_moins_de(codes, km)`: the codes INSEE of the communes whose centre lies within `km` kilometres of the
centre of one of `codes`. A bounding box on latitude and longitude, answered by the database (same SQL on
PostgreSQL and SQLite), keeps the candidates few; the great-circle (haversine) distance then decides exactly.
A commune without coordinates is never within reach.
"""

import math

from .models import Commune

RAYON_TERRE_KM = 6371.0088  # mean Earth radius (IUGG)
KM_PAR_DEGRE_LATITUDE = math.pi * RAYON_TERRE_KM / 180


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in km between two points given in decimal degrees (WGS 84)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * RAYON_TERRE_KM * math.asin(min(1.0, math.sqrt(a)))


def boite(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    """(lat min, lat max, lon min, lon max) of a box that holds every point within `km` of (lat, lon)."""
    dlat = km / KM_PAR_DEGRE_LATITUDE
    # The parallel's circle shrinks with the cosine of the latitude; take the box's widest parallel.
    cos_lat = math.cos(math.radians(min(89.0, abs(lat) + dlat)))
    dlon = min(180.0, km / (KM_PAR_DEGRE_LATITUDE * max(cos_lat, 1e-6)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def centres(codes) -> list[tuple[float, float]]:
    """The (latitude, longitude) of these communes that have coordinates."""
    return list(
        Commune.objects.filter(code_insee__in=list(codes), latitude__isnull=False, longitude__isnull=False)
        .values_list("latitude", "longitude")
        .order_by("code_insee")
    )


def communes_a_moins_de(codes, km: float) -> list[str]:
    """The codes INSEE (sorted) of the communes within `km` km of the centre of one of `codes` (these included)."""
    trouves: set[str] = set()
    for lat, lon in centres(codes):
        lat_min, lat_max, lon_min, lon_max = boite(lat, lon, km)
        candidates = Commune.objects.filter(
            latitude__gte=lat_min, latitude__lte=lat_max, longitude__gte=lon_min, longitude__lte=lon_max
        ).values_list("code_insee", "latitude", "longitude")
        trouves.update(code for code, la, lo in candidates if haversine_km(lat, lon, la, lo) <= km)
    return sorted(trouves)
