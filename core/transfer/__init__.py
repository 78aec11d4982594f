"""Moving data in and out of a library: importing Markdown vaults, single files and photos
(resumable, transactional per file) and exporting notes and photos back to files.

Owns: ``importer``, ``exporter``, ``file_walk``. May import: ``core.content``,
``core.photos``, ``storage``, ``core.errors``, ``core.progress``."""
