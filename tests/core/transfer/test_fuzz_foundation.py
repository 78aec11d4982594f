"""Fuzzing (hypothesis, bounded) of the inputs the foundation parses: Markdown + front
matter, the note file reader, and the photo/EXIF reader. No crash, no hang, clear errors."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.content.markdown import parse_note
from core.errors import BadInputError, FrontMatterError
from core.photos.files import read_photo
from core.transfer.importer import read_note_text

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

markdownish = st.lists(
    st.sampled_from([*"-\n#[]!|()*`~:_ ab가나다커피", "---\n", "[[", "]]", "```", "tags: "]),
    max_size=120,
).map("".join)


@FUZZ
@given(st.one_of(markdownish, st.text(max_size=400)))
def test_parse_note_never_crashes(text: str) -> None:
    parsed = parse_note(text)
    assert parsed.title
    assert all(isinstance(t, str) and t for t in parsed.tags)
    try:
        parse_note(text, strict=True)
    except FrontMatterError as exc:
        assert str(exc)


@FUZZ
@given(st.binary(max_size=300))
def test_note_reader_accepts_text_or_refuses_clearly(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.md"
    path.write_bytes(data)
    try:
        text = read_note_text(path)
    except BadInputError as exc:
        assert str(path) in exc.user_message
    else:
        assert isinstance(text, str)


def _jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[271], exif[272], exif[274] = "Make", "Model", 3
    exif.get_ifd(0x8769)[36867] = "2024:01:02 03:04:05"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (37.0, 1.0, 2.0), "E", (127.0, 3.0, 4.0)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (9, 99, 199)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


SEED_JPEG = _jpeg_with_exif()


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, len(SEED_JPEG) - 1), st.integers(0, 255)), min_size=1, max_size=12
    ),
    st.integers(0, len(SEED_JPEG)),
)
def test_photo_reader_on_mutated_jpegs(
    tmp_path: Path, flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(SEED_JPEG[: max(cut, 1)])
    for offset, value in flips:
        if offset < len(data):
            data[offset] = value
    path = tmp_path / "fuzz.jpg"
    path.write_bytes(bytes(data))
    try:
        info = read_photo(path)
    except BadInputError as exc:
        assert str(path) in exc.user_message
    else:
        assert info.width > 0 and info.height > 0
        if info.gps_lat is not None:
            assert -90 <= info.gps_lat <= 90 and -180 <= info.gps_lon <= 180
