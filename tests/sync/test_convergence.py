"""Convergence fuzz: 3 replicas, random concurrent edits (Korean included), tag changes,
deletions, partitions, duplicated/reordered/dropped messages, restarts and compaction.

Messages travel as real peer-envelope frames (encode → decode) between real libraries on
disk; forwarding is log-tailing as in the live pump. At the end partitions heal, an
anti-entropy round (sync step 1 / step 2) runs, and every replica must equal the others
AND the merge of every update any replica ever acknowledged (so no acknowledged edit was
lost), with `PRAGMA integrity_check` ok.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from pycrdt import Doc, Map, Text

from core.library import Library
from core.peers.service import SyncService
from storage import crdt_log
from sync.protocol import DocFrame, SyncUpdate, decode_envelope, encode_envelope
from tests.sync.conftest import library_state, paired_libraries

WORDS = ["hello", "안녕하세요", "세계", "sync", "샘", "note", "한국어 텍스트", "🙂", "x"]
TAGS = ["#work", "#일기", "#todo", "#sync"]


class Replica:
    def __init__(self, root: Path, name: str) -> None:
        self.root, self.name = root, name
        self.open()

    def open(self) -> None:
        self.lib = Library(self.root / self.name)
        self.service = SyncService(self.lib)
        self.cursors: dict[str, int] = {}

    def restart(self) -> None:
        self.lib.close()
        self.open()


class World:
    def __init__(self, root: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        paired_libraries(root, ["p0", "p1", "p2"])  # creates + pairs (then we reopen)
        self.peers = [Replica(root, f"p{i}") for i in range(3)]
        self.ids = {p.name: p.service.device_id for p in self.peers}
        self.channels: dict[tuple[int, int], list[bytes]] = {
            (i, j): [] for i in range(3) for j in range(3) if i != j
        }
        self.cut: set[frozenset[int]] = set()
        self.acknowledged: list[tuple[str, bytes]] = []  # every update any replica committed

    # -- local activity -----------------------------------------------------------------------

    def edit(self, i: int) -> None:
        lib, rng = self.peers[i].lib, self.rng
        notes = lib.list_items("note")
        if not notes or rng.random() < 0.15:
            lib.notes.create(f"# {rng.choice(WORDS)}\n\n{rng.choice(WORDS)} {rng.choice(TAGS)}\n")
            return
        note = rng.choice(notes)
        if rng.random() < 0.05:
            lib.notes.delete(note.id)
            return
        body = lib.notes.get(note.id).body
        if rng.random() < 0.25:  # tag change
            tag = rng.choice(TAGS)
            new = body.replace(f" {tag}", "") if f" {tag}" in body else body + f" {tag}"
        elif body and rng.random() < 0.4:  # delete a span
            start = rng.randrange(len(body))
            new = body[:start] + body[start + rng.randint(1, 8) :]
        else:  # insert
            pos = rng.randint(0, len(body))
            new = body[:pos] + rng.choice(WORDS) + " " + body[pos:]
        lib.notes.edit(note.id, new)

    def pump(self, i: int) -> None:
        """Forward new log entries of replica i to every other replica (like the live pump)."""
        src = self.peers[i]
        for j in range(3):
            if j == i:
                continue
            after = src.cursors.get(self.ids[f"p{j}"], 0)
            for change in crdt_log.updates_since(src.lib.db, after, 10_000):
                after = change.id
                if change.origin == f"peer:{self.ids[f'p{j}']}":
                    continue
                frame = encode_envelope(DocFrame(change.doc_id, SyncUpdate(change.data)))
                if frozenset((i, j)) in self.cut:
                    continue  # partition: lost on the wire
                self.channels[(i, j)].append(frame)
                if self.rng.random() < 0.1:
                    self.channels[(i, j)].append(frame)  # duplicated
            src.cursors[self.ids[f"p{j}"]] = after

    def deliver(self) -> None:
        busy = [k for k, q in self.channels.items() if q]
        if not busy:
            return
        i, j = self.rng.choice(busy)
        queue = self.channels[(i, j)]
        count = min(len(queue), self.rng.randint(1, 4))
        frames = [queue.pop(self.rng.randrange(len(queue))) for _ in range(count)]  # reordered
        batch = []
        for frame in frames:
            env = decode_envelope(frame)
            assert isinstance(env, DocFrame) and isinstance(env.message, SyncUpdate)
            batch.append((env.doc_id, env.message.update))
        self.peers[j].service.apply_batch(batch, f"peer:{self.ids[f'p{i}']}")

    def record(self) -> None:
        for replica in self.peers:
            for change in crdt_log.updates_since(
                replica.lib.db, replica.cursors.get("ack", 0), 100_000
            ):
                self.acknowledged.append((change.doc_id, change.data))
                replica.cursors["ack"] = change.id

    def step(self) -> None:
        r = self.rng.random()
        i = self.rng.randrange(3)
        if r < 0.45:
            self.edit(i)
        elif r < 0.75:
            self.deliver()
        elif r < 0.87:
            self.pump(i)
        elif r < 0.93:
            pair = frozenset(self.rng.sample(range(3), 2))
            self.cut ^= {pair}  # cut or heal a link
        elif r < 0.97:
            self.record()
            self.peers[i].restart()  # the in-memory documents are rebuilt from the log
        else:
            self.record()
            self.peers[i].service.compact(min_updates=4)
        self.record()

    # -- healing ------------------------------------------------------------------------------

    def anti_entropy(self) -> None:
        self.cut.clear()
        for _ in range(2):
            for i in range(3):
                for j in range(3):
                    if i != j:
                        src, dst = self.peers[i].service, self.peers[j].service
                        updates = [(d, src.diff(d, dst.state_vector(d))) for d in src.doc_ids()]
                        dst.apply_batch(updates, f"peer:{src.device_id}")
        self.record()


def _reference_bodies(acknowledged: list[tuple[str, bytes]]) -> dict[str, str]:
    docs: dict[str, Doc] = {}
    for doc_id, update in acknowledged:
        if doc_id not in docs:
            docs[doc_id] = Doc()
            docs[doc_id].get(
                "body" if doc_id != "library" else "items",
                type=Text if doc_id != "library" else Map,
            )
        docs[doc_id].apply_update(update)
    items = docs["library"].get("items", type=Map).to_py() if "library" in docs else {}
    return {
        item_id: str(docs[f"note:{item_id}"].get("body", type=Text))
        for item_id, entry in items.items()
        if entry.get("kind") == "note" and f"note:{item_id}" in docs
    }


def run_fuzz(root: Path, seed: int, steps: int) -> None:
    world = World(root, seed)
    for _ in range(steps):
        world.step()
    world.anti_entropy()
    states = [library_state(p.lib) for p in world.peers]
    assert states[0] == states[1] == states[2]
    bodies = {row[0]: row[1] for row in states[0]["notes"]}
    assert bodies == _reference_bodies(world.acknowledged)
    assert len(bodies) >= 1
    for replica in world.peers:
        assert replica.lib.db.integrity_check() == ["ok"]
        replica.lib.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_three_replicas_converge(tmp_path, seed):
    run_fuzz(tmp_path, seed, steps=150)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12])
def test_three_replicas_converge_long(tmp_path, seed):
    run_fuzz(tmp_path, seed, steps=1500)
