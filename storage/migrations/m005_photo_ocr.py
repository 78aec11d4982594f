"""Schema 5: which OCR engine (id and version) read each photo.

Derived data like ``ocr_lines``: a photo without a row was read by an older Saem (or never),
so when the OCR engine changes, or Tesseract was missing when it was read, the indexer can
find the photos to read again (``storage.chunks.photos_with_stale_ocr``).
"""

VERSION = 5

SQL = """
CREATE TABLE photo_ocr (
    item_id     TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    engine      TEXT NOT NULL,
    read_at     REAL NOT NULL
);
"""
