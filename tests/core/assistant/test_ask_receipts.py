"""`ask` over a library of several receipts: the instant answer's source is put first (and its
sentence quoted) only when it is about what was asked — the store named in the question — never
a total row of another receipt.

Real parts: library, indexer, hybrid searcher, receipt layout + fields, instant answer,
retrieval. The receipts are rendered images; their OCR is what RapidOCR + Tesseract returned
on four photographed receipts of ``benchmarks/receipt_set.py`` (seed 11), replayed by a FAKE
``OcrEngine`` (Protocol boundary); ``ScriptedModel`` is the FAKE chat model (it records the
prompt). On the earlier scoring a receipt's "Total … $323.50" row outweighed the asked store's
"Amount Due … $153.56" row, and that other receipt was forced first into the prompt.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.assistant.prompting import HINT
from core.assistant.service import Assistant
from core.indexing.indexer import Indexer
from core.library import Library
from core.search.searcher import Searcher
from models.protocols import OcrLine
from tests.core.assistant.test_service import ScriptedModel
from tests.search_support import HashEmbedder

Row = tuple[int, int, str, tuple[int, int, int, int]]
BAKERY: list[Row] = [
    (0, 0, "Maple Street Bakery", (199, 131, 631, 206)),
    (0, 1, "719 Station Road", (293, 194, 534, 240)),
    (0, 2, "Fairview, 13047", (298, 241, 525, 286)),
    (0, 3, "Tel (584) 848-7773", (270, 286, 552, 332)),
    (0, 4, "Date: 09/20/2025 12:45", (128, 330, 467, 377)),
    (0, 5, "Pasta x3", (124, 421, 249, 465)),
    (0, 6, "Bread x3", (124, 469, 254, 510)),
    (0, 7, "Cookies x3", (123, 516, 280, 557)),
    (1, 0, "111.81", (587, 435, 691, 476)),
    (1, 1, "110.73", (586, 482, 693, 523)),
    (1, 2, "71.55", (599, 528, 694, 572)),
    (2, 0, "Subtotal", (119, 606, 248, 652)),
    (2, 1, "Tax", (117, 652, 182, 698)),
    (2, 2, "Total", (116, 699, 217, 753)),
    (2, 3, "Cash", (115, 752, 197, 800)),
    (2, 4, "Change", (113, 800, 232, 851)),
    (3, 0, "294.09", (581, 622, 692, 668)),
    (3, 1, "29.41", (598, 671, 688, 714)),
    (3, 2, "$323.50", (533, 713, 691, 769)),
    (3, 3, "330.00", (578, 771, 689, 816)),
    (3, 4, "6.50", (614, 822, 688, 863)),
    (4, 0, "Thank you!", (313, 854, 481, 908)),
]
MART: list[Row] = [
    (0, 0, "Fresh Mart", (291, 125, 459, 162)),
    (0, 1, "RECEIPT", (327, 170, 423, 201)),
    (0, 2, "227 Harbor Road", (283, 209, 466, 239)),
    (0, 3, "Fairview, 36465", (290, 248, 459, 275)),
    (0, 4, "Tel (686) 986-3731", (269, 285, 479, 315)),
    (0, 5, "Date: 2022-06-10 15:45", (106, 322, 364, 352)),
    (1, 0, "Batteries x2", (105, 397, 233, 427)),
    (1, 1, "Soup x2", (105, 435, 195, 467)),
    (2, 0, "52.40", (580, 395, 650, 427)),
    (2, 1, "87.20", (580, 435, 650, 464)),
    (3, 0, "Subtotal", (106, 510, 201, 538)),
    (3, 1, "Tax", (105, 545, 152, 576)),
    (3, 2, "Amount Due", (107, 583, 273, 618)),
    (3, 3, "Cash", (107, 625, 165, 655)),
    (3, 4, "Change", (106, 661, 193, 695)),
    (4, 0, "139.60", (567, 506, 650, 541)),
    (4, 1, "13.96", (580, 546, 651, 578)),
    (4, 2, "$153.56", (533, 584, 650, 619)),
    (4, 3, "160.00", (567, 626, 649, 657)),
    (4, 4, "6.44", (593, 665, 650, 695)),
    (5, 0, "Thank you!", (313, 698, 436, 735)),
]
BUTCHER: list[Row] = [
    (0, 0, "초록정육점", (318, 116, 457, 157)),
    (0, 1, "영수증", (360, 156, 416, 178)),
    (0, 2, "광주시서구상무대로 98", (282, 175, 490, 208)),
    (0, 4, "025-296-8316", (284, 239, 484, 272)),
    (0, 5, "2025.09.28 20:29", (108, 263, 334, 297)),
    (0, 8, "공급가액", (106, 402, 179, 451)),
    (0, 9, "부가세", (104, 437, 160, 469)),
    (0, 10, "결제금액", (104, 467, 195, 505)),
    (0, 11, "받은금액", (103, 496, 178, 545)),
    (1, 0, "68,800", (579, 338, 658, 371)),
    (1, 1, "97,500", (578, 370, 656, 400)),
    (1, 2, "166,300", (564, 428, 654, 461)),
    (1, 3, "16,630", (574, 458, 652, 491)),
    (1, 4, "182,930", (518, 488, 650, 525)),
    (1, 5, "190,000", (560, 523, 650, 557)),
    (1, 6, "7,070", (580, 553, 649, 587)),
]
DINER: list[Row] = [
    (0, 0, "소담식당", (333, 127, 485, 163)),
    (0, 1, "영수증", (373, 177, 442, 203)),
    (0, 2, "광주시서구 상무대로 264", (268, 216, 544, 242)),
    (0, 3, "063-350-4105", (290, 249, 520, 285)),
    (0, 4, ": 2025-02-16 09:01", (125, 286, 404, 323)),
    (1, 1, "식빵 x3", (125, 410, 203, 435)),
    (2, 0, "17,400", (592, 372, 684, 407)),
    (2, 1, "12,300", (592, 412, 683, 446)),
    (2, 2, "35,800", (588, 451, 683, 486)),
    (3, 0, "공급가액", (120, 523, 215, 565)),
    (3, 1, "부가세", (119, 566, 186, 592)),
    (3, 2, "합계금액", (118, 606, 239, 639)),
    (3, 3, "받은금액", (118, 647, 208, 689)),
    (4, 0, "65,500", (586, 531, 680, 566)),
    (4, 1, "6,550", (598, 572, 679, 607)),
    (4, 2, "72,050", (534, 612, 676, 652)),
    (4, 3, "80,000", (582, 657, 675, 692)),
]
RECEIPTS = {"bakery": BAKERY, "mart": MART, "butcher": BUTCHER, "diner": DINER}
WIDTHS = {"bakery": 800, "mart": 760, "butcher": 780, "diner": 820}  # tells the fake which one


class ReplayedOcr:
    """FAKE OcrEngine (Protocol boundary): replays the recorded OCR of the receipt whose image
    width it gets (the images differ in width, not in what a fake could read)."""

    model_id = "replayed-ocr"

    def read(self, image: object) -> list[OcrLine]:
        width = image.shape[1]  # type: ignore[attr-defined]
        name = next(k for k, w in WIDTHS.items() if w == width)
        return [OcrLine(text, 0.98, box, block, line, "replayed")
                for block, line, text, box in RECEIPTS[name]]  # fmt: skip

    def close(self) -> None:
        pass


def _render(path: Path, rows: list[Row], width: int) -> Path:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (width, 1000), (246, 244, 238))
    draw = ImageDraw.Draw(im)
    for _, _, text, (x, y, _, _) in rows:
        draw.text((x, y), text.encode("ascii", "replace").decode(), fill=(20, 20, 20))
    im.save(path, quality=90)
    return path


@pytest.fixture
def receipts(library: Library, tmp_path: Path) -> Library:
    ids = {}
    for name, rows in RECEIPTS.items():
        ids[name], _ = library.photos.add(_render(tmp_path / f"{name}.jpg", rows, WIDTHS[name]))
    library.embedder = HashEmbedder()  # type: ignore[attr-defined]
    Indexer(library, embedder=library.embedder, ocr=ReplayedOcr(), auto_models=False).run()  # type: ignore[attr-defined]
    library.ids = ids  # type: ignore[attr-defined]
    return library


def _ask(lib: Library, question: str) -> tuple[ScriptedModel, object]:
    model = ScriptedModel(["The total was [1]."], context_tokens=4096)
    helper = Assistant(lib, chat_model=model, searcher=Searcher(lib, lib.embedder),  # type: ignore[attr-defined]
                       temperature=0.0)  # fmt: skip
    return model, helper.ask(question)


@pytest.mark.parametrize(
    ("question", "store", "total"),
    [
        ("What was the total at Fresh Mart?", "mart", "153.56"),
        ("What was the total at Maple Street Bakery?", "bakery", "323.50"),
        ("초록 정육점 영수증의 합계는 얼마였어?", "butcher", "182,930"),
        ("소담식당 영수증의 합계는 얼마였어?", "diner", "72,050"),
    ],
)
def test_the_asked_stores_receipt_comes_first(receipts, question, store, total) -> None:
    model, answer = _ask(receipts, question)
    assert answer.instant is not None and answer.instant.item_id == receipts.ids[store]
    assert answer.instant.answer.endswith(total)
    assert answer.sources[0].item_id == receipts.ids[store]
    prompt = model.calls[0][-1].content
    assert total in prompt.split("\n\n")[0]  # the quoted instant sentence is the asked store's
    assert prompt.startswith(HINT[answer.language])


def test_an_instant_answer_about_another_store_is_not_forced_first(receipts) -> None:
    """No receipt of "Green Grocer": the best total row covers "total" only, so it is shown as
    the instant answer but neither quoted nor put first."""
    model, _ = _ask(receipts, "What was the total at Green Grocer?")
    prompt = model.calls[0][-1].content if model.calls else ""
    assert HINT["en"] not in prompt


@pytest.mark.parametrize("reply", ["The total was 12 [1].", "[1]"])
def test_an_invented_or_empty_answer_is_flagged_and_the_receipt_row_shown(receipts, reply):
    model = ScriptedModel([reply], context_tokens=4096)
    helper = Assistant(receipts, chat_model=model, searcher=Searcher(receipts, receipts.embedder),
                       temperature=0.0)  # fmt: skip
    answer = helper.ask("What was the total at Fresh Mart?")
    assert answer.replaced and answer.model_text.strip() == reply
    assert answer.unsupported == (["12"] if "12" in reply else [])
    assert "**$153.56**" in answer.text and answer.text.startswith(answer.model_text)
    stored = helper.chats.get(answer.chat_id).messages[-1].content
    assert stored == answer.text  # what was shown is what the chat keeps


def test_a_copied_answer_is_not_flagged(receipts) -> None:
    model = ScriptedModel(["The total was $153.56 [1]."], context_tokens=4096)
    helper = Assistant(receipts, chat_model=model, searcher=Searcher(receipts, receipts.embedder),
                       temperature=0.0)  # fmt: skip
    answer = helper.ask("What was the total at Fresh Mart?")
    assert not answer.replaced and not answer.unsupported
    assert answer.text == answer.model_text
