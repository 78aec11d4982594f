"""Reading the parts of a Markdown note Saem cares about: front matter, title, tags, links.

The note body is the whole Markdown file (front matter included), exactly as Obsidian keeps
it, so export is byte-for-byte and a front-matter edit syncs like any other edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from core.errors import FrontMatterError

_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M
)
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
# `#tag`: starts after whitespace/line start; letters (any script), digits, _ - /; not all digits.
_TAG = re.compile(r"(?:(?<=\s)|^)#([^\s#\[\]{}()<>,.;:!?'\"`~@$%^&*+=|\\]+)", re.M)
_WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n|#^]*)(?:#([^\[\]\n|]*))?(?:\|([^\[\]\n]*))?\]\]")
_MD_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")

IMAGE_SUFFIXES = (
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".heic",
    ".heif",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
)


@dataclass(frozen=True)
class ParsedLink:
    kind: str  # wikilink | embed | markdown
    target: str
    heading: str | None = None
    alias: str | None = None

    @property
    def is_image(self) -> bool:
        return self.target.lower().endswith(IMAGE_SUFFIXES)


@dataclass
class ParsedNote:
    title: str
    tags: list[str]
    links: list[ParsedLink]
    front_matter: dict[str, Any] = field(default_factory=dict)
    content: str = ""  # body without front matter


def split_front_matter(text: str) -> tuple[dict[str, Any], str, str | None]:
    """(front matter dict, body after it, error message or None)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text, None
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        return {}, text[match.end() :], f"broken YAML front matter{where}"
    if not isinstance(data, dict):
        return {}, text[match.end() :], "front matter is not a YAML mapping"
    return data, text[match.end() :], None


def _strip_code(text: str) -> str:
    text = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return _INLINE_CODE.sub(" ", text)


def _front_matter_tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        parts = re.split(r"[,\s]+", value)
    elif isinstance(value, list | tuple):
        parts = [str(v) for v in value if v is not None]
    else:
        parts = [str(value)]
    return [p.strip().lstrip("#") for p in parts if p.strip().lstrip("#")]


def normalize_tag(tag: str) -> str:
    return tag.strip().lstrip("#").rstrip("/").lower()


def parse_note(text: str, *, fallback_title: str = "", strict: bool = False) -> ParsedNote:
    """Parse a note. With ``strict`` a broken front matter raises :class:`FrontMatterError`."""
    front, content, error = split_front_matter(text)
    if error and strict:
        raise FrontMatterError(error)
    plain = _strip_code(content)
    tags: list[str] = []
    for tag in _front_matter_tags(front.get("tags", front.get("tag"))):
        tags.append(normalize_tag(tag))
    for match in _TAG.finditer(plain):
        candidate = match.group(1).rstrip("/-_")
        if candidate and not candidate.isdigit():
            tags.append(normalize_tag(candidate))
    links: list[ParsedLink] = []
    for match in _WIKILINK.finditer(plain):
        bang, target, heading, alias = match.groups()
        target = target.strip()
        if not target and not heading:
            continue
        links.append(
            ParsedLink(
                "embed" if bang else "wikilink",
                target,
                heading and heading.strip(),
                alias and alias.strip(),
            )
        )
    for match in _MD_LINK.finditer(plain):
        bang, label, target = match.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # http:, mailto:, … are not items
        from urllib.parse import unquote

        links.append(
            ParsedLink("embed" if bang else "markdown", unquote(target), None, label or None)
        )
    title = str(front.get("title") or "").strip()
    if not title:
        title = fallback_title.strip()
    if not title:
        heading = _HEADING.search(plain)
        title = heading.group(1).strip() if heading else ""
    if not title:
        first = next((ln.strip() for ln in content.splitlines() if ln.strip()), "")
        title = first[:80]
    return ParsedNote(
        title or "Untitled", list(dict.fromkeys(t for t in tags if t)), links, front, content
    )
