"""The assistant: retrieval of numbered sources, prompts, the local LLM's grounded answer with
citations, photo chat (OCR, EXIF, tags, notes around the photo), and chat history as CRDT data.

Owns: ``service`` (Assistant), ``retrieval``, ``prompting``, ``citations``, ``chats``
(ChatsService), ``history``, ``photo_chat``, ``instant`` (the instant answer: a verbatim
sentence/row of the library, no LLM), ``grounding`` (sources cut to the sentences that
matter, unsupported numbers/names flagged), ``receipts`` (OCR lines as laid out, receipt
fields). May import: ``core.search``, ``core.photos``, ``core.content``, ``models``,
``storage``. Independent of ``core.related``."""
