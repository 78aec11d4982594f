"""Hybrid search: query parsing (filters, phrases), keyword (FTS5 BM25 + trigram) and dense
sources, fusion, snippets with highlights, geographic ``near:`` filters, and the palette's
quick title finder.

Owns: ``searcher`` (Searcher), ``query``, ``fusion``, ``snippets``, ``near``, ``quick_find``.
May import: ``core.indexing`` (vector index), ``core.photos`` (places), ``core.content``,
``models``, ``storage``. Never imports ``core.related`` or ``core.assistant``."""
