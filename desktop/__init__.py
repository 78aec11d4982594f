"""The Qt desktop app and the `saem` command line: thin layers over `core` services."""
