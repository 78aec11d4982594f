"""The pipeline before issue 16, for same-run baselines in ``bench_chat.py``.

``Assistant(grounding=False)`` turns off what the issue added to retrieval and photo facts
(sources cut to the sentences that matter, the instant answer's source always kept, OCR text as
laid out). The system prompts changed too (exact words / numbers); the earlier ones are kept
here verbatim (from commit 6441c54) and swapped in with :func:`baseline_prompts`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from core.assistant import prompting

OLD_SYSTEM_ASK = {
    "en": (
        "Use only the numbered notes in the user's message to answer. Give the answer in one "
        "or two short sentences using the words of the note, and put the note's number in "
        "brackets after it, like [1]. If the notes do not answer the question, say that your "
        "notes do not say. Do not guess. Answer in English."
    ),
    "ko": (
        "사용자 메시지의 번호 붙은 노트만 사용해 답하세요. "
        "노트의 낱말로 짧은 한두 문장으로 답하고, 그 뒤에 노트 번호를 [1]처럼 괄호로 "
        "붙이세요. 노트에 답이 없으면 노트에 없다고 말하세요. 추측하지 마세요. "
        "한국어로 답하세요."
    ),
}
OLD_SYSTEM_PHOTO_BLIND = {
    "en": (
        "You answer questions about the user's photos, but you CANNOT see images. You only "
        "have the text found in the photo (OCR), its date, place, tags and the numbered "
        "notes; cite notes like [1]. Quote text from the photo exactly. If the question is "
        "about what the picture looks like and these do not say, answer that you cannot see "
        "the picture. Never describe what you cannot see. Answer in English, briefly."
    ),
    "ko": (
        "사용자의 사진에 대한 질문에 답하지만, 당신은 이미지를 볼 수 없습니다. 사진 속 글자"
        "(OCR), 날짜, 장소, 태그와 번호 붙은 노트만 있습니다. 노트는 [1]처럼 인용하세요. 사진 "
        "속 글자는 그대로 인용하세요. 질문이 사진의 모습에 관한 것이고 이 정보로 알 수 없으면 "
        "사진을 볼 수 없다고 답하세요. 보이지 않는 것을 묘사하지 마세요. 한국어로 짧게 답하세요."
    ),
}


@contextlib.contextmanager
def baseline_prompts() -> Iterator[None]:
    """The earlier system prompts for the duration of the block (the dicts are shared by
    reference with ``core.assistant.service``, so they are updated in place)."""
    saved = (dict(prompting.SYSTEM_ASK), dict(prompting.SYSTEM_PHOTO_BLIND))
    prompting.SYSTEM_ASK.update(OLD_SYSTEM_ASK)
    prompting.SYSTEM_PHOTO_BLIND.update(OLD_SYSTEM_PHOTO_BLIND)
    try:
        yield
    finally:
        prompting.SYSTEM_ASK.update(saved[0])
        prompting.SYSTEM_PHOTO_BLIND.update(saved[1])
