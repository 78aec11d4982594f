"""`EventLog`: what the user does (opens, searches, clicks, dwell, questions, impressions).

The recommender reads these to learn short-term intent (items opened together in a session,
clicked from the same query) and long-term preference (items returned to over weeks). Events
stay in this library: they are not CRDT data and are never synced unless the user turns
``events.sync`` on (the sync service reads :attr:`EventLog.sync_enabled`). They can be pruned.

Sessions: an event more than ``SESSION_GAP`` seconds after the previous one starts a new session.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import InputTooLargeError, MalformedInputError, UnknownNameError
from storage import events as store
from storage.errors import NotFoundError

if TYPE_CHECKING:
    from core.library import Library

EVENT_KINDS = ("open", "search", "click", "dwell", "ask", "impression")
SESSION_GAP = 30 * 60.0
MAX_QUERY_CHARS = 2000
MAX_DATA_CHARS = 20_000

EventRow = store.EventRow


@dataclass(frozen=True)
class PanelStats:
    """How the Related panel does in real use (from logged impressions and clicks)."""

    impressions: int  # times the panel was shown
    items_shown: int  # recommendations shown in total
    clicks: int  # recommendations the user opened from the panel
    ctr: float  # clicks / impressions
    item_ctr: float  # clicks / items shown
    mean_click_rank: float | None  # 1-based rank of clicked recommendations
    by_reason: dict[str, tuple[int, int]]  # reason -> (shown, clicked)


class EventLog:
    """Append and read activity events of one library."""

    def __init__(self, library: Library, *, session_gap: float = SESSION_GAP) -> None:
        self.db = library.db
        self.session_gap = float(session_gap)

    # -- switches -------------------------------------------------------------------------------

    @property
    def sync_enabled(self) -> bool:
        return store.get_setting(self.db, store.SYNC_SETTING, "0") == "1"

    def set_sync_enabled(self, enabled: bool) -> None:
        with self.db.transaction():
            store.set_setting(self.db, store.SYNC_SETTING, "1" if enabled else "0")

    @property
    def recording_enabled(self) -> bool:
        return store.get_setting(self.db, store.RECORD_SETTING, "1") == "1"

    def set_recording_enabled(self, enabled: bool) -> None:
        with self.db.transaction():
            store.set_setting(self.db, store.RECORD_SETTING, "1" if enabled else "0")

    # -- writing --------------------------------------------------------------------------------

    def session_for(self, ts: float) -> str:
        """The session an event at ``ts`` belongs to (a new one after a long enough gap).

        Read from the database each time (one indexed row) so that the GUI and the CLI
        writing to the same library agree on the session.
        """
        last = store.last_event(self.db)
        if last is not None and ts - last.ts <= self.session_gap:
            # Also keeps out-of-order events (clock went back, imports) in the latest session.
            return last.session_id
        return uuid.uuid4().hex

    def record(
        self,
        kind: str,
        item_id: str | None = None,
        query: str | None = None,
        data: dict[str, Any] | None = None,
        *,
        ts: float | None = None,
    ) -> int | None:
        """Log one event; returns its id (None when the user turned recording off).

        kinds: ``open`` (item), ``search`` (query), ``click`` (item; query or
        ``data={"from": "related", "source_item": id, "rank": n, "reasons": [...]}``),
        ``dwell`` (item, ``data={"seconds": s}``), ``ask`` (query), ``impression``
        (item = the item the panel is next to, ``data={"items": [...], "reasons": [[...]]}``).
        """
        if kind not in EVENT_KINDS:
            raise UnknownNameError(
                f"Unknown event kind {kind!r}; use one of: {', '.join(EVENT_KINDS)}."
            )
        if kind in ("open", "click", "dwell", "impression") and not item_id:
            raise MalformedInputError(f"A {kind!r} event needs the item it is about.")
        if kind in ("search", "ask") and not (query and query.strip()):
            raise MalformedInputError(f"A {kind!r} event needs the query text.")
        if query is not None and len(query) > MAX_QUERY_CHARS:
            query = query[:MAX_QUERY_CHARS]
        if data is not None and not isinstance(data, dict):
            raise MalformedInputError("Event data must be a mapping of names to values.")
        try:
            encoded = json.dumps(data or {}, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise MalformedInputError(f"Event data cannot be stored as JSON ({exc}).") from exc
        if len(encoded) > MAX_DATA_CHARS:
            raise InputTooLargeError("Event data is too large to log.")
        if kind == "dwell":
            seconds = (data or {}).get("seconds")
            if not isinstance(seconds, int | float) or seconds < 0:
                raise MalformedInputError(
                    "A dwell event needs data={'seconds': <non-negative number>}."
                )
        if not self.recording_enabled:
            return None
        if item_id is not None:
            found = store.find_brief(self.db, item_id)
            if found is None:
                raise NotFoundError(f"No item with id {item_id}.")
        now = time.time() if ts is None else float(ts)
        with self.db.transaction():
            sid = self.session_for(now)
            event_id = store.append(
                self.db,
                ts=now,
                session_id=sid,
                kind=kind,
                item_id=item_id,
                query=query,
                data=data,
            )
        return event_id

    def import_history(
        self, events: list[tuple[float, str, str | None, str | None, dict[str, Any] | None]]
    ) -> int:
        """Append many ``(ts, kind, item_id, query, data)`` events in one transaction, assigning
        sessions by the same inactivity rule (events are sorted by time first). For importing
        activity from elsewhere and for offline evaluations. Returns how many were added."""
        ordered = sorted(events, key=lambda e: e[0])
        for _ts, kind, _item, _query, data in ordered:
            if kind not in EVENT_KINDS:
                raise UnknownNameError(f"Unknown event kind {kind!r}.")
            if data is not None and not isinstance(data, dict):
                raise MalformedInputError("Event data must be a mapping of names to values.")
        rows = []
        with self.db.transaction():
            last = store.last_event(self.db)
            sid, last_ts = (last.session_id, last.ts) if last else (None, float("-inf"))
            for ts, kind, item_id, query, data in ordered:
                if sid is None or ts - last_ts > self.session_gap:
                    sid = uuid.uuid4().hex
                last_ts = max(last_ts, ts)
                rows.append((ts, sid, kind, item_id, query, data))
            store.append_many(self.db, rows)
        return len(rows)

    def prune(self, older_than_seconds: float, *, now: float | None = None) -> int:
        """Delete events older than this many seconds; returns how many were deleted."""
        if older_than_seconds < 0:
            raise MalformedInputError("The age to prune must not be negative.")
        cutoff = (time.time() if now is None else now) - older_than_seconds
        with self.db.transaction():
            removed = store.prune(self.db, cutoff)
        return removed

    # -- reading --------------------------------------------------------------------------------

    def current_session(self, *, now: float | None = None) -> str | None:
        """The id of the session still open at ``now`` (None after a long gap or no events)."""
        last = store.last_event(self.db)
        now = time.time() if now is None else now
        if last is None or now - last.ts > self.session_gap:
            return None
        return last.session_id

    def session_events(self, session_id: str) -> list[EventRow]:
        return store.by_session(self.db, session_id)

    def item_events(self, item_id: str, *, since: float | None = None) -> list[EventRow]:
        return store.by_item(self.db, item_id, since=since)

    def events(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        kinds: list[str] | None = None,
        limit: int | None = None,
    ) -> list[EventRow]:
        return store.between(self.db, since=since, until=until, kinds=kinds, limit=limit)

    def recent_opens(
        self, *, within: float | None = None, now: float | None = None, limit: int = 20
    ) -> list[str]:
        """Items opened in the current session, most recent first (deduplicated)."""
        sid = self.current_session(now=now)
        if sid is None:
            return []
        now = time.time() if now is None else now
        seen: dict[str, None] = {}
        for ev in reversed(store.by_session(self.db, sid)):
            if within is not None and now - ev.ts > within:
                break
            if ev.kind in ("open", "click") and ev.item_id and ev.item_id not in seen:
                seen[ev.item_id] = None
                if len(seen) >= limit:
                    break
        return list(seen)

    def counts(self, *, since: float | None = None) -> dict[str, int]:
        return store.counts_by_kind(self.db, since=since)

    def state(self) -> tuple[int, int]:
        return store.state(self.db)

    def panel_stats(self, *, since: float | None = None, panel: str = "related") -> PanelStats:
        impressions = 0
        shown = 0
        clicks = 0
        ranks: list[int] = []
        by_reason: dict[str, list[int]] = {}
        for ev in store.between(self.db, since=since, kinds=["impression", "click"]):
            if ev.data.get("panel", "related") != panel and ev.data.get("from") != panel:
                continue
            if ev.kind == "impression":
                impressions += 1
                items = ev.data.get("items") or []
                shown += len(items)
                for reasons in ev.data.get("reasons") or []:
                    for reason in reasons[:1]:
                        by_reason.setdefault(str(reason), [0, 0])[0] += 1
            elif ev.data.get("from") == panel:
                clicks += 1
                rank = ev.data.get("rank")
                if isinstance(rank, int):
                    ranks.append(rank)
                for reason in (ev.data.get("reasons") or [])[:1]:
                    by_reason.setdefault(str(reason), [0, 0])[1] += 1
        return PanelStats(
            impressions=impressions,
            items_shown=shown,
            clicks=clicks,
            ctr=clicks / impressions if impressions else 0.0,
            item_ctr=clicks / shown if shown else 0.0,
            mean_click_rank=sum(ranks) / len(ranks) if ranks else None,
            by_reason={k: (v[0], v[1]) for k, v in sorted(by_reason.items())},
        )
