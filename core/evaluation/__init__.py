"""Offline evaluation: retrieval quality (nDCG, recall on BEIR-style sets) and related-item
quality (leave-one-out next-open prediction).

Owns: ``retrieval`` (``saem eval``), ``related``. May import every other ``core`` sub-package;
nothing in ``core`` imports it."""
