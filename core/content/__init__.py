"""Notes as content: CRDT-backed note documents, Markdown parsing (front matter, wikilinks,
tags) and chunking of text for the index.

Owns: ``documents`` (library/note CRDT docs), ``notes`` (NotesService), ``markdown``,
``chunking``, ``textmerge`` (the editor's three-way merge on :mod:`sync.text_diff`).
May import: ``storage``, ``sync`` (document types, the text diff), ``core.errors``,
``core.progress``. Knows nothing of photos, search or the assistant."""
