"""Related items: recommendations for the item the user opened, blending content neighbours
(vectors), a Pixie random walk over co-opened/linked/tagged items, and intent keywords run
as a search.

Owns: ``recommender`` (Recommender), ``blend``, ``sources``, ``vectors``, ``pixie``,
``keyphrases``. May import: ``core.search``, ``core.events``, ``core.content``, ``storage``."""
