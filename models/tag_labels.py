"""Label knowledge for the image taggers: class names, raw label → plain user tag maps,
colour names, and the text-density heuristics (document / receipt / screenshot)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from models.protocols import OcrLine

_COCO80_WORDS = (
    (
        "person bicycle car motorcycle airplane bus train truck boat traffic_light fire_hydrant "
        "stop_sign parking_meter bench bird cat dog horse sheep cow elephant bear zebra giraffe "
        "backpack umbrella handbag tie suitcase frisbee skis snowboard sports_ball kite "
        "baseball_bat baseball_glove skateboard surfboard tennis_racket bottle wine_glass cup fork "
        "knife spoon bowl banana apple sandwich orange broccoli carrot hot_dog pizza donut cake "
        "chair couch potted_plant bed dining_table toilet tv laptop mouse remote keyboard "
        "cell_phone microwave oven toaster sink refrigerator book clock vase scissors teddy_bear "
        "hair_drier toothbrush"
    )
    .replace("_", "\0")
    .split()
)
COCO80 = tuple(n.replace("\0", " ") for n in _COCO80_WORDS)

_COCO_TAGS: dict[str, tuple[str, ...]] = {
    "person": ("people",),
    "bicycle": ("bicycle",),
    "car": ("car",),
    "motorcycle": ("motorcycle",),
    "airplane": ("airplane",),
    "bus": ("bus",),
    "train": ("train",),
    "truck": ("truck",),
    "boat": ("boat", "water"),
    "bird": ("bird", "animal"),
    "cat": ("cat", "animal"),
    "dog": ("dog", "animal"),
    "horse": ("horse", "animal"),
    "sheep": ("sheep", "animal"),
    "cow": ("cow", "animal"),
    "elephant": ("elephant", "animal"),
    "bear": ("bear", "animal"),
    "zebra": ("zebra", "animal"),
    "giraffe": ("giraffe", "animal"),
    "skis": ("snow", "skiing"),
    "snowboard": ("snow",),
    "surfboard": ("surfing", "water"),
    "sports ball": ("ball", "sports"),
    "kite": ("kite",),
    "skateboard": ("skateboard",),
    "umbrella": ("umbrella",),
    "frisbee": ("frisbee",),
    "bench": ("bench",),
    "book": ("book",),
    "banana": ("food",),
    "apple": ("food",),
    "sandwich": ("food",),
    "orange": ("food",),
    "broccoli": ("food",),
    "carrot": ("food",),
    "hot dog": ("food",),
    "pizza": ("food",),
    "donut": ("food",),
    "cake": ("food",),
    "tv": ("screen",),
    "laptop": ("computer",),
    "cell phone": ("phone",),
    "potted plant": ("plant",),
}


# Detector labels that need the classifier's agreement below ``unsure_score``.
_UNSURE_LABELS = {
    "cat",
    "bird",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
}


def _ranges(*spans: tuple[int, int]) -> set[int]:
    return {i for a, b in spans for i in range(a, b + 1)}


# ImageNet-1k class indices → user tags (indices follow the standard class order).
_IMAGENET_TAGS: dict[str, set[int]] = {
    "dog": _ranges((151, 268)),
    "cat": _ranges((281, 285)),
    "bird": _ranges((7, 24), (80, 100), (127, 146)),
    "fish": _ranges((0, 6), (389, 397)),
    "animal": _ranges((0, 398)) - {69, 107, 108, 109, 110, 111},
    "horse": {339, 603},
    "insect": _ranges((300, 326)),
    "flower": {984, 985, 986},
    "food": _ranges((924, 969)) - {958},
    "fruit": _ranges((948, 957)),
    "beach": {977, 978},
    "mountain": {970, 972, 976, 979, 980, 349, 350},
    "water": {460, 536, 718, 973, 975, 977, 978, 913, 625, 693},
    "snow": {795, 802, 803, 450, 537, 289, 296},
    "car": {407, 436, 468, 511, 581, 609, 627, 656, 661, 717, 751, 817, 864, 675, 734, 479},
    "bicycle": {444, 671, 870, 880},
    "boat": {472, 484, 510, 554, 576, 625, 628, 724, 780, 814, 833, 871, 914, 403},
    "building": {
        425,
        437,
        442,
        449,
        483,
        497,
        498,
        500,
        538,
        580,
        663,
        668,
        698,
        727,
        832,
        853,
        858,
        900,
        415,
        424,
        454,
        467,
        509,
        582,
        624,
        762,
        788,
        860,
        865,
        743,
        873,
    },
    "document": {921, 917, 918, 922, 446, 549},
    "screenshot": {916},
    "screen": {664, 782, 851, 527, 620, 681},
    "toy": {850, 865},
    "playground": {843, 476},
    "sports": {429, 430, 522, 574, 768, 805, 852, 890, 981},
}

_COLORS = (
    "black",
    "white",
    "grey",
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "brown",
)
_PRICE = re.compile(r"\d+[.,]\d{2}\b|\d{1,3}(,\d{3})+|[$₩€£]\s?\d")
_RECEIPT_WORDS = re.compile(
    r"total|subtotal|receipt|tax|vat|cash|change|합계|영수증|부가세|카드|"
    r"결제|금액|총액",
    re.IGNORECASE,
)


def color_names(rgb: np.ndarray, min_share: float = 0.12) -> list[str]:
    """Dominant basic colour names, most common first."""
    from PIL import Image

    small = np.asarray(Image.fromarray(rgb).resize((48, 48)).convert("HSV"), dtype=np.float32)
    hue, sat, val = small[..., 0] * 360 / 255, small[..., 1] / 255, small[..., 2] / 255
    name = np.full(hue.shape, "grey", dtype=object)
    chroma = sat > 0.25
    bands = [
        (15, "red"),
        (40, "orange"),
        (70, "yellow"),
        (165, "green"),
        (255, "blue"),
        (290, "purple"),
        (335, "pink"),
        (361, "red"),
    ]
    lo = 0.0
    for hi, label in bands:
        name[chroma & (hue >= lo) & (hue < hi)] = label
        lo = hi
    name[chroma & (hue < 45) & (val < 0.55)] = "brown"
    name[val < 0.18] = "black"
    name[(~chroma) & (val > 0.85)] = "white"
    labels, counts = np.unique(name.astype(str), return_counts=True)
    order = np.argsort(-counts)
    return [str(labels[i]) for i in order if counts[i] / name.size >= min_share]


def text_kind(lines: Sequence[OcrLine], width: int, height: int, flat: float) -> dict[str, float]:
    """document / receipt / screenshot scores from OCR text density and layout."""
    lines = [ln for ln in lines if len(ln.text.strip()) >= 2]
    if len(lines) < 3:
        return {}
    area = sum((ln.box[2] - ln.box[0]) * (ln.box[3] - ln.box[1]) for ln in lines)
    coverage = area / max(1.0, width * height)
    chars = sum(len(ln.text) for ln in lines)
    out: dict[str, float] = {}
    dense = min(1.0, coverage / 0.15) * min(1.0, len(lines) / 8) * min(1.0, chars / 120)
    if flat >= 0.35 and len(lines) >= 4:
        out["screenshot"] = round(min(1.0, 0.5 + flat / 2) * max(dense, 0.6), 3)
    elif dense >= 0.5:
        out["document"] = round(dense, 3)
    prices = sum(1 for ln in lines if _PRICE.search(ln.text)) / len(lines)
    keywords = sum(1 for ln in lines if _RECEIPT_WORDS.search(ln.text))
    x0 = min(ln.box[0] for ln in lines)
    x1 = max(ln.box[2] for ln in lines)
    y0 = min(ln.box[1] for ln in lines)
    y1 = max(ln.box[3] for ln in lines)
    tall_column = (y1 - y0) > 1.2 * (x1 - x0)
    receipt = (
        0.5 * min(1.0, prices / 0.3) + 0.3 * min(1.0, keywords / 2) + 0.2 * float(tall_column)
    ) * min(1.0, len(lines) / 6)
    if receipt >= 0.5:
        out["receipt"] = round(receipt, 3)
        out.setdefault("document", round(max(dense, 0.5), 3))
    return out


def _flat_share(rgb: np.ndarray) -> float:
    """Share of pixels in the 3 most common exact colours (high for rendered screens)."""
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 250_000)))
    px = rgb[::step, ::step].reshape(-1, 3).astype(np.uint32)
    keys = (px[:, 0] << 16) | (px[:, 1] << 8) | px[:, 2]
    _, counts = np.unique(keys, return_counts=True)
    return float(np.sort(counts)[-3:].sum() / len(keys))
