"""The indexing pipeline: the durable job queue worker that chunks notes, reads photos
(OCR, tags) and embeds chunks, and the in-memory vector index (exact / HNSW) rebuilt from the
vectors stored in SQLite.

Owns: ``indexer`` (Indexer), ``vector_index``, ``embedders`` (packaged embedders by name).
May import: ``core.content``, ``core.photos``, ``models``, ``storage``, ``core.errors``,
``core.progress``."""
