#!/bin/sh
# Installs (or removes) cthelperd's files: the binary, the systemd unit and the documentation the
# unit points at. Files only: enabling, starting and stopping is systemctl's (see README.md).
#
#   cargo build --release && sudo contrib/install.sh
#   sudo contrib/install.sh --uninstall
#
# DESTDIR=DIR installs under DIR (packaging, tests); CTHELPERD_BIN=FILE installs that binary
# instead of target/release/cthelperd.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dest=${DESTDIR:-}
bin=${CTHELPERD_BIN:-$here/target/release/cthelperd}
docs="README.md docs/architecture.md docs/kernel-path.md docs/replay.md"

# Where each file goes (the unit names /usr/sbin/cthelperd and /usr/share/doc/cthelperd).
BIN=/usr/sbin/cthelperd
UNIT=/etc/systemd/system/cthelperd.service
DOC=/usr/share/doc/cthelperd

case ${1:-} in
  --uninstall)
    rm -f "$dest$BIN" "$dest$UNIT"
    for f in $docs; do rm -f "$dest$DOC/$(basename "$f")"; done
    rmdir "$dest$DOC" 2>/dev/null || true
    echo "removed $BIN, $UNIT and $DOC"
    exit 0 ;;
  '') ;;
  *) echo "usage: $0 [--uninstall]" >&2; exit 2 ;;
esac

[ -x "$bin" ] || { echo "$0: no binary at $bin (cargo build --release first)" >&2; exit 1; }
install -D -m 0755 "$bin" "$dest$BIN"
install -D -m 0644 "$here/contrib/cthelperd.service" "$dest$UNIT"
for f in $docs; do install -D -m 0644 "$here/$f" "$dest$DOC/$(basename "$f")"; done
echo "installed $BIN, $UNIT and $DOC"
[ -n "$dest" ] || echo "next: systemctl daemon-reload && systemctl enable --now cthelperd"
