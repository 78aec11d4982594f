#!/usr/bin/env bash
# Build the one-folder desktop app into dist/saem (used by `make dist`).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
"$VENV/bin/pip" install -q 'pyinstaller>=6.10'
"$VENV/bin/pyinstaller" --noconfirm --clean --distpath dist --workpath build/pyinstaller \
  packaging/saem.spec
install -Dm644 packaging/saem.desktop dist/saem/share/applications/saem.desktop
install -Dm644 packaging/icons/saem-256.png dist/saem/share/icons/hicolor/256x256/apps/saem.png
install -Dm644 packaging/icons/saem.svg dist/saem/share/icons/hicolor/scalable/apps/saem.svg
du -sh dist/saem
