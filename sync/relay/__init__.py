"""End-to-end encrypted sync through any stock Yjs WebSocket server (the *relay*).

The server holds one ordinary Yjs document per library (the *relay room*) whose only
content is a ``Y.Array`` named ``entries`` of opaque records ``{device, seq, nonce,
ciphertext}``. It merges and stores that array like any Yjs document and never sees a note,
a title, a tag, a photo or even a device ID:

* :mod:`sync.relay.crypto` — the library key, the room name (an HMAC of the key), sealing
  and opening entries (ChaCha20-Poly1305 + an Ed25519 signature by the writing device);
* :mod:`sync.relay.payload` — what is inside an entry (CRDT updates, snapshots, photo
  chunks, read cursors, blob requests);
* :mod:`sync.relay.room` — a minimal y-websocket client holding the room in a pycrdt doc;
* :mod:`sync.relay.engine` — what to write, what to read and apply, compaction;
* :mod:`sync.relay.invite` — the one-time code that hands the key to a device that never
  shares a LAN with this one.
"""
