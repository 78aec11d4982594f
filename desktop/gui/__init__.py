"""The Saem desktop GUI (PySide6). Every action calls a `core` service through
:mod:`desktop.gui.operations`; nothing here touches SQL or a model runtime."""
