"""Photos: import of image files (EXIF, thumbnails, blobs), the photo service, image analysis
(tags, semantic vectors), OCR text as chunks, and places (reverse geocoding).

Owns: ``service`` (PhotosService), ``files``, ``analysis``, ``text``, ``places``.
May import: ``core.content`` (chunking, documents), ``models``, ``storage``, ``core.errors``."""
