"""The chat panel: questions, streamed answers, sources."""
