"""The search query language: free words, "exact phrases" and filters.

Filters: ``kind:note|photo``, ``tag:NAME``, ``after:DATE`` / ``before:DATE`` (``2024``,
``2024-06`` or ``2024-06-15``; a photo's EXIF time, else the item's creation time),
``near:PLACE`` (``near:Seoul``, ``near:"New York"``). Everything else is text. Queries are
never passed to FTS5 as written: words are quoted one by one (see :func:`fts_terms`), so
operators such as ``NEAR(``, ``AND`` or ``*`` are just words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from core.errors import (
    EmptyInputError,
    InputTooLargeError,
    MalformedInputError,
    UnknownNameError,
)

MAX_QUERY_CHARS = 2000
FILTERS = ("kind", "tag", "after", "before", "near")
KINDS = {
    "note": "note",
    "notes": "note",
    "photo": "photo",
    "photos": "photo",
    "image": "photo",
    "images": "photo",
    "노트": "note",
    "사진": "photo",
}

_FILTER = re.compile(r'(?<!\S)([A-Za-z_]+):(?:"([^"]*)"|(\S*))')
_PHRASE = re.compile(r'"([^"]+)"')
_WORD = re.compile(r"\w+", re.UNICODE)
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")

# Korean particles and common endings, longest first: stripped from query words so that
# "서울에서" also finds "서울은" (the stem is searched as a prefix).
_KO_SUFFIXES = sorted(
    [
        "이었습니다",
        "였습니다",
        "입니다",
        "습니다",
        "에서는",
        "에게서",
        "으로부터",
        "로부터",
        "까지는",
        "부터는",
        "이라는",
        "이라고",
        "에서도",
        "에서의",
        "으로는",
        "으로도",
        "에서",
        "에게",
        "한테",
        "께서",
        "으로",
        "까지",
        "부터",
        "처럼",
        "보다",
        "마다",
        "이나",
        "이며",
        "이고",
        "이다",
        "였다",
        "했다",
        "하는",
        "하고",
        "하여",
        "해서",
        "하게",
        "되는",
        "되어",
        "되었",
        "된",
        "한",
        "은",
        "는",
        "이",
        "가",
        "을",
        "를",
        "의",
        "에",
        "도",
        "와",
        "과",
        "로",
        "만",
        "나",
        "요",
        "야",
        "며",
        "고",
        "다",
    ],
    key=len,
    reverse=True,
)
_EN_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
        "in",
        "on",
        "at",
        "to",
        "for",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "by",
        "with",
        "from",
        "as",
        "that",
        "this",
        "it",
        "its",
        "into",
        "than",
        "then",
        "there",
        "these",
        "those",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "how",
        "why",
        "when",
        "where",
        "do",
        "does",
        "did",
        "not",
        "no",
    ]
)


@dataclass
class Query:
    raw: str
    words: list[str] = field(default_factory=list)  # free words (phrases' words included)
    phrases: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    tags: list[str] = field(default_factory=list)
    after: str | None = None  # inclusive lower bound, ISO prefix ("2024-06")
    before: str | None = None  # exclusive upper bound, ISO prefix
    near: str | None = None
    text: str = ""  # the free text (for the dense embedder)

    @property
    def has_text(self) -> bool:
        return bool(self.words)

    @property
    def has_filters(self) -> bool:
        return bool(self.kinds or self.tags or self.after or self.before or self.near)


def _normalize_date(value: str, name: str) -> str:
    match = _DATE.match(value.strip())
    if not match:
        raise MalformedInputError(
            f"{name}:{value} is not a date; use a year, year-month or full date "
            f"(e.g. {name}:2024, {name}:2024-06, {name}:2024-06-15)."
        )
    year, month, day = match.groups()
    if month and not 1 <= int(month) <= 12:
        raise MalformedInputError(f"{name}:{value}: the month must be 1–12.")
    if day and not 1 <= int(day) <= 31:
        raise MalformedInputError(f"{name}:{value}: the day must be 1–31.")
    parts = [year] + [f"{int(p):02d}" for p in (month, day) if p]
    return "-".join(parts)


def _next_period(prefix: str) -> str:
    """The first date after the period ``prefix`` names (for an inclusive ``before:``)."""
    parts = [int(p) for p in prefix.split("-")]
    if len(parts) == 1:
        return f"{parts[0] + 1}"
    if len(parts) == 2:
        y, m = parts
        return f"{y + (m == 12)}-{(m % 12) + 1:02d}"
    return prefix + "~"  # within the day: "~" sorts after any time text


def parse_query(raw: str) -> Query:
    """Parse a query; bad filters raise :class:`BadInputError` with a readable sentence."""
    if raw is None:
        raise EmptyInputError("Type something to search for.")
    text = unicodedata.normalize("NFC", str(raw)).replace("\x00", " ")
    if len(text) > MAX_QUERY_CHARS:
        raise InputTooLargeError(
            f"The query is too long ({len(text):,} characters; the limit is "
            f"{MAX_QUERY_CHARS:,}). Search for a few distinctive words instead."
        )
    query = Query(raw=text)

    def take_filter(match: re.Match[str]) -> str:
        name, quoted, plain = match.group(1).lower(), match.group(2), match.group(3)
        value = (quoted if quoted is not None else plain or "").strip()
        if plain is not None and plain.startswith("//"):
            return match.group(0)  # a URL such as https://…, not a filter
        if name not in FILTERS:
            raise UnknownNameError(
                f"Unknown filter '{match.group(1)}:'. Filters are "
                + ", ".join(f"{f}:" for f in FILTERS)
                + ". Put the text in quotes to search for it literally."
            )
        if not value:
            raise MalformedInputError(
                f"The filter {name}: needs a value (e.g. {name}:{_EXAMPLE[name]})."
            )
        if name == "kind":
            kind = KINDS.get(value.lower())
            if kind is None:
                raise UnknownNameError(f"kind:{value} is not a kind; use kind:note or kind:photo.")
            query.kinds.add(kind)
        elif name == "tag":
            query.tags.append(value.lstrip("#").lower())
        elif name == "after":
            query.after = _normalize_date(value, name)
        elif name == "before":
            query.before = _normalize_date(value, name)
        elif name == "near":
            query.near = value
        return " "

    rest = _FILTER.sub(take_filter, text)
    if query.after and query.before and query.after >= query.before:
        raise MalformedInputError(f"after:{query.after} is not before before:{query.before}.")
    query.phrases = [p.strip() for p in _PHRASE.findall(rest) if _WORD.search(p)]
    free = rest.replace('"', " ")
    query.words = _WORD.findall(free)
    query.text = " ".join(free.split())
    if not query.words and not query.has_filters:
        if text.strip():
            raise EmptyInputError(
                "The query has no words to search for (only punctuation or symbols)."
            )
        raise EmptyInputError("Type something to search for.")
    return query


_EXAMPLE = {
    "kind": "photo",
    "tag": "receipt",
    "after": "2024-06",
    "before": "2024-09",
    "near": "Seoul",
}


def is_hangul(word: str) -> bool:
    return bool(_HANGUL.search(word))


def korean_stem(word: str) -> str:
    """Strip one trailing particle/ending from a Korean word (keeps at least one syllable)."""
    for suffix in _KO_SUFFIXES:
        # one-syllable endings only come off words of 3+ syllables (바다 stays 바다)
        keep = 1 if len(suffix) > 1 else 2
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            return word[: -len(suffix)]
    return word


def english_stem(word: str) -> str:
    """A light suffix stripper for prefix search (``inhibits`` → ``inhibit``)."""
    w = word.lower()
    for suffix, keep in (
        ("ies", 3),
        ("sses", 3),
        ("ing", 4),
        ("ed", 4),
        ("es", 4),
        ("s", 3),
        ("ly", 4),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= keep and not w.endswith("ss"):
            return w[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return w


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


@dataclass(frozen=True)
class FtsTerms:
    words: list[str]  # FTS5 expressions, one per query word (quoted, maybe with *)
    surface: list[str]  # plain strings to highlight


def fts_terms(words: list[str], *, prefix_last: bool = False, stem: bool = True) -> FtsTerms:
    """Turn query words into quoted FTS5 terms for the unicode61 table.

    Korean words are stemmed (particles removed) and searched as prefixes — the stem followed
    by any particle. English stop words are dropped when other words remain.
    """
    lowered = [w.lower() for w in words]
    content = [w for w in lowered if w not in _EN_STOP] or lowered
    exprs: list[str] = []
    surface: list[str] = []
    for i, word in enumerate(content):
        last = i == len(content) - 1
        if is_hangul(word):
            base = korean_stem(word) if stem else word
            exprs.append(_quote(base) + "*")
            surface.append(base)
        elif stem and len(word) > 3 and not word.isdigit():
            base = english_stem(word)
            prefix = base != word or (prefix_last and last)
            exprs.append(_quote(base) + ("*" if prefix else ""))
            surface.append(base)
        else:
            exprs.append(_quote(word) + ("*" if prefix_last and last else ""))
            surface.append(word)
    return FtsTerms(list(dict.fromkeys(exprs)), list(dict.fromkeys(surface)))


def trigram_terms(words: list[str]) -> list[str]:
    """Quoted substrings for the trigram table (needs ≥ 3 characters per term)."""
    out = []
    for word in words:
        w = word.lower()
        if is_hangul(w):
            w = korean_stem(w)
        if len(w) >= 3 and w not in _EN_STOP:
            out.append(_quote(w))
    return list(dict.fromkeys(out))
