"""The `near:` search filter: a place name to coordinates, a box for SQL, exact distance."""

from __future__ import annotations

import math

from core.errors import SaemError, UnknownNameError
from core.photos.places import lookup_place

NEAR_KM = 25.0  # `near:Seoul` keeps items within this distance of the place


def place_center(name: str) -> tuple[float, float]:
    """Latitude and longitude of a place name (GeoNames, offline); bad names are bad input."""
    try:
        found = lookup_place(name)
    except (ValueError, OSError, SaemError) as exc:
        raise UnknownNameError(f"Cannot look up the place {name!r}: {exc}") from exc
    if found is None:
        raise UnknownNameError(
            f"Unknown place {name!r} for near:; try a city name like near:Seoul."
        )
    return float(found[0]), float(found[1])


def bounding_box(
    center: tuple[float, float], km: float
) -> tuple[float, float, float, float] | None:
    """A lat/lon box holding every point within ``km`` of ``center`` (None near the poles or
    the antimeridian, where a box would wrap: the exact distance filter still applies)."""
    dlat = km / 111.0
    cos = math.cos(math.radians(center[0]))
    if cos < 0.05:
        return None
    dlon = km / (111.0 * cos)
    if abs(center[1]) + dlon >= 180:
        return None
    return (center[0] - dlat, center[0] + dlat, center[1] - dlon, center[1] + dlon)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))
