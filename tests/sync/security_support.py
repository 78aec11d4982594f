"""Helpers of the sync security tests: a server on 127.0.0.1 and the refusal records."""

from __future__ import annotations

import logging

import pytest

from core.library import Library
from core.peers.service import SyncService
from sync.server import SyncServer

SECURITY_LOGGER = "saem.sync.security"


async def serve_sync(service: SyncService) -> SyncServer:
    server = SyncServer(service, service.identity, host="127.0.0.1", port=0)
    await server.start()
    return server


def log_kinds(service: SyncService) -> list[str]:
    return [r.kind for r in service.security_log(100)]


def reopened_log(library: Library) -> list[tuple[str, str | None, str | None, str]]:
    """The records as a fresh process would read them (durable, not in memory)."""
    fresh = Library(library.root)
    try:
        return [
            (r.kind, r.device_id, r.address, r.reason) for r in SyncService(fresh).security_log()
        ]
    finally:
        fresh.close()


def security_warnings(caplog: pytest.LogCaptureFixture, kind: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == SECURITY_LOGGER
        and r.levelno == logging.WARNING
        and r.getMessage().startswith(f"sync security: {kind} ")
    ]
