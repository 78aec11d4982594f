"""Peer sync as an application service: runs the ``sync`` layer's sessions against the library
(materializing remote updates into notes/photos, queueing re-indexing), pairing and device
certificates, and compaction of the update log.

Owns: ``service`` (SyncService), ``security``, ``compaction``. May import: ``sync``,
``storage``, ``core.content``, ``core.photos``. Never imports search or the assistant."""
