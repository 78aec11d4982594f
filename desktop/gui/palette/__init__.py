"""The Ctrl+K search palette and its result rows."""
