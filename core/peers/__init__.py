"""Peer sync as an application service: runs the ``sync`` layer's sessions against the library
(materializing remote updates into notes/photos, queueing re-indexing), pairing and device
certificates, and compaction of the update log.

Owns: ``service`` (SyncService), ``security``, ``compaction``, ``relay`` (sync through a
stock Yjs server as an end-to-end encrypted mailbox). May import: ``sync``,
``storage``, ``core.content``, ``core.photos``. Never imports search or the assistant."""
