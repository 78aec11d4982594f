"""The notes screen: the item list, the Markdown editor with highlighting, undo."""
