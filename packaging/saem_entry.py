"""Entry point of the frozen app: `saem` with no arguments opens the window."""

import sys

from desktop.cli.main import main

if __name__ == "__main__":
    if len(sys.argv) == 1:
        sys.argv.append("open")
    main()
