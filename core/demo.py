"""The built-in demo library: a few notes in Korean and English (written for Saem) and real
photos (scikit-image's sample photos, re-encoded in ``demo_assets/`` — see its LICENSES.md —
plus a receipt and a station sign rendered for Saem) with EXIF time and place, created on
first run when a library is empty.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from core.library import Library
from core.progress import ProgressCallback, no_progress

ASSETS = Path(__file__).with_name("demo_assets")


@dataclass(frozen=True)
class DemoPhoto:
    name: str  # file name in the library (what notes embed)
    source: str  # "asset:<file in demo_assets/>"
    taken_at: str  # EXIF DateTimeOriginal
    gps: tuple[float, float] | None
    camera: tuple[str, str] = ("Saem", "Demo Camera")


DEMO_PHOTOS = [
    DemoPhoto(
        "station_sign.jpg", "asset:sign_station.png", "2024:07:14 09:55:00", (37.5759, 126.9735)
    ),
    DemoPhoto(
        "cafe_receipt.jpg", "asset:receipt_cafe.png", "2024:07:14 10:32:00", (37.5826, 126.9817)
    ),
    DemoPhoto("coffee.jpg", "asset:coffee.jpg", "2024:03:02 08:10:00", (37.5665, 126.9780)),
    DemoPhoto("chelsea.jpg", "asset:chelsea.jpg", "2023:11:20 19:40:00", (35.1796, 129.0756)),
    DemoPhoto("astronaut.jpg", "asset:astronaut.jpg", "2022:05:01 12:00:00", (29.5593, -95.0900)),
    DemoPhoto("rocket.jpg", "asset:rocket.jpg", "2022:05:03 07:30:00", (28.5729, -80.6490)),
    DemoPhoto("hubble.jpg", "asset:hubble.jpg", "2022:05:04 22:15:00", None),
    DemoPhoto("motorcycle.jpg", "asset:motorcycle.jpg", "2024:09:28 15:05:00", (33.4996, 126.5312)),
    DemoPhoto("scanned_page.jpg", "asset:scanned_page.jpg", "2024:01:15 11:00:00", None),
]

DEMO_NOTES: dict[str, str] = {
    "Welcome to Saem": """---
tags: [saem, guide]
---
# Welcome to Saem

Saem (샘, "a spring") keeps your notes, your photos and the text seen in those photos on
your own machine, and finds anything in them by meaning — in Korean and in English.

- Press **Ctrl+K** anywhere to search; press **Tab** to ask the question to the assistant.
- Open a note to see what is related to it.
- Pair your laptop and your desktop once; they sync directly, no cloud.

Try: [[서울 여행 계획]], [[Coffee brewing notes]], [[Space reading list]].
""",
    "서울 여행 계획": """---
tags: [여행, 서울]
---
# 서울 여행 계획

7월 14일 아침에 경복궁역 3번 출구에서 친구를 만나기로 했다. 국립고궁박물관을 먼저 보고
삼청동 카페 골목을 걷는다.

![[station_sign.jpg]]

- 경복궁 수문장 교대식: 오전 10시
- 점심: 토속촌 삼계탕 (줄이 길다)
- 오후: 북촌 한옥마을, 인사동

카페에서 마신 커피 기록은 [[카페 기록]]에 있다. #여름휴가
""",
    "카페 기록": """# 카페 기록

삼청동 **카페 샘물**에서 아메리카노와 카페라테를 마셨다. 치즈케이크가 정말 맛있었다.
영수증을 찍어 두었다.

![[cafe_receipt.jpg]]

커피를 좋아하는 친구에게 추천할 만하다. 원두는 에티오피아 예가체프. #커피 #카페
""",
    "Coffee brewing notes": """---
tags: [coffee]
---
# Coffee brewing notes

Pour-over ratio that works for me: **1:16** (15 g coffee, 240 g water at 93 °C).

1. Rinse the paper filter.
2. Bloom with 40 g of water for 35 seconds.
3. Pour in slow spirals until 240 g; total time about 3 minutes.

![[coffee.jpg]]

A light Ethiopian roast tastes of blueberry and jasmine; see also [[카페 기록]].
""",
    "Chelsea the cat": """# Chelsea the cat

Chelsea is a tabby who visits the garden every evening. She likes tuna and ignores the
toy mouse. Vet check-up due in **December**.

![[chelsea.jpg]]

#cat #pets
""",
    "Space reading list": """# Space reading list

- How astronauts train for space walks in neutral-buoyancy pools.
- The Saturn V rocket: five F-1 engines, 34 million newtons of thrust at lift-off.
- The Hubble Deep Field: ten days of exposure on a tiny patch of dark sky revealed about
  3,000 galaxies.

![[astronaut.jpg]]
![[rocket.jpg]]
![[hubble.jpg]]

#space #reading
""",
    "Motorcycle maintenance log": """# Motorcycle maintenance log

| date | km | what |
|---|---|---|
| 2024-09-28 | 12,400 | chain cleaned and lubed, tyre pressure 2.5 bar |
| 2024-06-02 | 11,100 | oil change (10W-40), new air filter |

Ride around Jeju island planned for October. ![[motorcycle.jpg]] #motorcycle
""",
    "회의록 - 로컬 검색": """---
tags: [회의, work]
---
# 회의록: 로컬 검색 기능

참석: 민지, 준호, Alex

- 한국어 검색은 조사가 붙은 형태(커피를, 서울에서)에서도 단어를 찾아야 한다.
- 키워드 검색과 의미 검색을 함께 쓰고, 사진 속 글자(OCR)도 검색한다.
- 모든 모델은 기기 안에서 실행한다. 인터넷 연결이 없어도 동작해야 한다.

다음 회의: 8월 2일. 관련: [[Meeting notes 2024-07-15]]
""",
    "Meeting notes 2024-07-15": """# Meeting notes 2024-07-15

Attendees: Minji, Junho, Alex

- Decided: sync between devices is peer to peer, paired by device ID.
- Photo search must work without a cloud model: OCR text, tags, EXIF time and place.
- Action: Alex writes the import path for Obsidian vaults.

See the Korean notes in [[회의록 - 로컬 검색]]. #work
""",
    "김치볶음밥 레시피": """# 김치볶음밥 레시피 (Kimchi fried rice)

재료: 잘 익은 김치 1컵, 밥 1공기, 스팸 조금, 대파, 고추장 1작은술, 참기름, 달걀 1개.

1. 대파를 기름에 볶아 파기름을 낸다.
2. 김치와 스팸을 넣고 3분 볶는다.
3. 밥과 고추장을 넣고 섞은 뒤 참기름을 두른다.
4. 달걀 프라이를 올린다.

Tip: day-old rice works best because it is drier. #요리 #recipe
""",
    "Scanned letter": """# Scanned letter

An old typed page I scanned for the archive; the text in the photo is searchable once
it has been indexed.

![[scanned_page.jpg]]

#document #archive
""",
}


def _source_image(source: str) -> Image.Image:
    _, name = source.split(":", 1)
    return Image.open(ASSETS / name)


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def write_demo_photo(photo: DemoPhoto, folder: Path) -> Path:
    """Write one demo photo as a JPEG with EXIF time, camera and GPS."""
    image = _source_image(photo.source).convert("RGB")
    exif = Image.Exif()
    exif[271], exif[272] = photo.camera
    exif[306] = photo.taken_at
    exif.get_ifd(0x8769)[36867] = photo.taken_at
    if photo.gps:
        lat, lon = photo.gps
        gps = exif.get_ifd(0x8825)
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = _dms(lat)
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = _dms(lon)
    target = folder / photo.name
    image.save(target, "JPEG", quality=90, exif=exif)
    return target


def ensure_demo_library(library: Library, progress: ProgressCallback = no_progress) -> bool:
    """Fill an empty library with the demo content. Returns False when it was not empty."""
    if not library.is_empty():
        return False
    total = len(DEMO_PHOTOS) + len(DEMO_NOTES)
    done = 0
    with tempfile.TemporaryDirectory(prefix="saem-demo-") as tmp:
        for photo in DEMO_PHOTOS:
            try:
                path = write_demo_photo(photo, Path(tmp))
            except (OSError, FileNotFoundError):
                continue  # a missing sample photo only makes the demo smaller
            library.photos.add(path)
            done += 1
            progress(done, total, photo.name)
    for title, body in DEMO_NOTES.items():
        library.notes.create(body, fallback_title=title, title=title)
        done += 1
        progress(done, total, title)
    library.notes.resolve_pending_links()
    # keywords now (no model loads): `saem demo` then `saem search 경복궁` finds the note;
    # meaning search and photo analysis follow with `saem index` or the app's indexer
    library.indexer.index_keywords()
    return True
