"""CLI: `saem ask`, `saem photo-chat`, `saem chats list|show|search|delete`.

First comes the instant answer: the sentence (table row, OCR row) of your notes and photos
that most likely answers, its answer span in bold, its source and a ``saem://`` link — no model
needed (``--instant`` stops there). Then the model's answer streams to stdout as it is written;
the numbered sources (with item titles and ids) follow, and numbers or names of the answer that
are in no source are flagged. Ctrl+C stops the answer: nothing of it is stored and the chat is
unchanged.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from core.library import ChatId
from desktop.cli.support import EXIT_CANCELLED, open_library, present_errors

if TYPE_CHECKING:
    from core.assistant.chats import ChatsService
    from core.assistant.instant import InstantAnswer
    from core.assistant.service import Answer, Assistant, InstantCallback, TokenCallback
    from core.library import Library


def _assistant(ctx: click.Context, max_tokens: int) -> Assistant:
    assistant = open_library(ctx).assistant
    assistant.max_answer_tokens = max_tokens
    return assistant


def _stale_hint(lib: Library) -> None:
    status = lib.indexer.status()
    if status.pending:
        click.echo(f"note: {status.pending} item(s) are not indexed yet, so answers cannot use "
                   "them; run `saem index`.", err=True)  # fmt: skip


def _echo_instant(instant: InstantAnswer | None) -> None:
    if instant is None:
        return
    text = instant.text
    if instant.span:
        a, b = instant.span
        text = text[:a] + click.style(text[a:b], bold=True, underline=True) + text[b:]
    head = f"Instant answer ({instant.ms:.0f} ms)"
    if instant.answer:
        head += ": " + click.style(instant.answer.strip(), bold=True)
    click.echo(head)
    click.echo(f"  “{text}”")
    click.echo(f"  — {instant.title or '(untitled)'} ({instant.kind} {instant.item_id[:8]})  "
               f"{instant.link}\n")  # fmt: skip
    sys.stdout.flush()


def _run(
    ctx: click.Context,
    call: Callable[[TokenCallback, InstantCallback], Answer],
    as_json: bool,
    stream: bool,
) -> None:
    def token(piece: str) -> None:
        if stream and not as_json:
            click.echo(piece, nl=False)
            sys.stdout.flush()

    def instant(found: InstantAnswer | None) -> None:
        if not as_json:
            _echo_instant(found)

    try:
        answer = call(token, instant)
    except KeyboardInterrupt:
        click.echo("\nsaem: cancelled; the answer was not stored.", err=True)
        sys.exit(EXIT_CANCELLED)
    if as_json:
        click.echo(json.dumps(_answer_json(answer), ensure_ascii=False))
        return
    if not stream:
        click.echo(answer.text, nl=False)
    click.echo()
    if answer.notice:
        click.echo(f"({answer.notice})", err=True)
    if answer.unsupported:
        click.echo("⚠ not in any source: " + ", ".join(answer.unsupported) + " — check it.")
    cited = {c.number for c in answer.citations if c.valid}
    if answer.photo_hits:
        click.echo()
        for i, hit in enumerate(answer.photo_hits[:10], 1):
            click.echo(f"  {i}. {hit.title or '(untitled)'}  [{hit.item_id[:8]}]")
    elif answer.sources:
        click.echo("\nSources:")
        for s in answer.sources:
            mark = "*" if s.number in cited else " "
            where = f" › {s.heading.strip('# ')}" if s.heading and s.heading != s.title else ""
            click.echo(f" {mark}[{s.number}] {s.title or '(untitled)'}{where}  ({s.kind} "
                       f"{s.item_id[:8]})")  # fmt: skip
    t = answer.timing
    first = f"{t.first_token_ms / 1000:.1f}s to first token, " if t.first_token_ms else ""
    click.echo(
        f"chat {answer.chat_id[:8]} · {first}{t.tokens} tokens at {t.tokens_per_s:.1f}/s · "
        f"continue with --chat {answer.chat_id[:8]}",
        err=True,
    )


def _answer_json(answer: Any) -> dict[str, Any]:
    return {
        "chat_id": answer.chat_id,
        "text": answer.text,
        "language": answer.language,
        "grounded": answer.grounded,
        "query": answer.query,
        "notice": answer.notice,
        "sources": [s.to_json() for s in answer.sources],
        "citations": [
            {
                "number": c.number,
                "item_id": c.item_id,
                "chunk_id": c.chunk_id,
                "span": list(c.span),
                "at": list(c.at),
            }
            for c in answer.citations
        ],
        "photo_hits": [{"item_id": h.item_id, "title": h.title} for h in answer.photo_hits],
        "instant": answer.instant.to_json() if answer.instant else None,
        "unsupported": list(answer.unsupported),
        "first_token_ms": answer.timing.first_token_ms,
        "tokens": answer.timing.tokens,
        "tokens_per_s": answer.timing.tokens_per_s,
    }


_common = [
    click.option("--chat", "chat_id", help="Continue this chat (id or unique id prefix)."),
    click.option("--max-tokens", default=320, show_default=True, help="Longest answer."),
    click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON."),
    click.option("--no-stream", is_flag=True, help="Print the answer only when complete."),
    click.option("--instant", "instant_only", is_flag=True,
                 help="Only the instant answer from your own text (no model, no chat)."),
]  # fmt: skip


def _with_common(func: Any) -> Any:
    for option in reversed(_common):
        func = option(func)
    return func


@click.command("ask")
@click.argument("question")
@_with_common
@click.pass_context
@present_errors
def ask(ctx: click.Context, question: str, chat_id: str | None, max_tokens: int, as_json: bool,
        no_stream: bool, instant_only: bool) -> None:  # fmt: skip
    """Ask your notes; the instant answer first, then the model's answer citing [1], [2]…"""
    helper = _assistant(ctx, max_tokens)
    _stale_hint(helper.library)
    if instant_only:
        _instant_only(helper.instant(question), as_json)
        return
    _run(ctx, lambda tok, inst: helper.ask(question, chat_id, on_token=tok, on_instant=inst),
         as_json, not no_stream)  # fmt: skip


def _instant_only(found: InstantAnswer | None, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"instant": found.to_json() if found else None},
                              ensure_ascii=False))  # fmt: skip
    elif found is None:
        click.echo("No sentence of your notes answers this; ask without --instant.", err=True)
    else:
        _echo_instant(found)


@click.command("photo-chat")
@click.argument("photo")
@click.argument("question")
@_with_common
@click.pass_context
@present_errors
def photo_chat(ctx: click.Context, photo: str, question: str, chat_id: str | None,
               max_tokens: int, as_json: bool, no_stream: bool,
               instant_only: bool) -> None:  # fmt: skip
    """Ask about PHOTO (id or prefix): its text, time, place, tags and related notes — and the
    picture itself when a vision model is installed."""
    helper = _assistant(ctx, max_tokens)
    if instant_only:
        _instant_only(helper.instant(question, photo_id=photo), as_json)
        return

    def call(tok: TokenCallback, inst: InstantCallback) -> Answer:
        return helper.photo_chat(photo, question, chat_id, on_token=tok, on_instant=inst)

    _run(ctx, call, as_json, not no_stream)


@click.group("chats")
def chats_group() -> None:
    """Your conversations with the assistant (stored and synced like notes)."""


def _chats(ctx: click.Context) -> ChatsService:
    return open_library(ctx).chats


@chats_group.command("list")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@present_errors
def chats_list(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Chats, most recent first."""
    from datetime import datetime

    for row in _chats(ctx).list(limit=limit):
        if as_json:
            click.echo(json.dumps({"id": row.id, "title": row.title, "messages": row.messages,
                                   "updated_at": row.updated_at}, ensure_ascii=False))  # fmt: skip
            continue
        when = datetime.fromtimestamp(row.updated_at).strftime("%Y-%m-%d %H:%M")
        photo = " (photo)" if row.photo_item_id else ""
        click.echo(f"{row.id[:8]}  {when}  {row.messages:3d} msgs  {row.title}{photo}")


@chats_group.command("show")
@click.argument("chat_id")
@click.pass_context
@present_errors
def chats_show(ctx: click.Context, chat_id: str) -> None:
    """A whole chat with the sources of each answer."""
    chat = _chats(ctx).get(ChatId(chat_id))
    click.echo(f"# {chat.title}  ({chat.id})")
    for m in chat.messages:
        who = {"user": "You", "assistant": "Saem"}.get(m.role, m.role)
        click.echo(f"\n{who}: {m.content}")
        for s in m.sources:
            if "item_id" in s and s.get("number"):
                click.echo(f"    [{s['number']}] {s.get('title') or '(untitled)'}  "
                           f"({s.get('kind', '')} {str(s['item_id'])[:8]})")  # fmt: skip


@chats_group.command("search")
@click.argument("query")
@click.option("--limit", default=20, show_default=True)
@click.pass_context
@present_errors
def chats_search(ctx: click.Context, query: str, limit: int) -> None:
    """Chats whose messages contain QUERY's words."""
    hits = _chats(ctx).search(query, limit=limit)
    if not hits:
        click.echo("No chat mentions that.", err=True)
    for h in hits:
        click.echo(f"{h.chat_id[:8]}  {h.title}\n    {h.snippet}")


@chats_group.command("delete")
@click.argument("chat_id")
@click.pass_context
@present_errors
def chats_delete(ctx: click.Context, chat_id: str) -> None:
    """Delete a chat (on every synced device)."""
    service = _chats(ctx)
    row = service.get_row(ChatId(chat_id))
    service.delete(ChatId(row.id))
    click.echo(f"Deleted chat {row.id[:8]} ({row.title}).")


def register(cli: click.Group) -> None:
    cli.add_command(ask)
    cli.add_command(photo_chat)
    cli.add_command(chats_group)
