#!/bin/sh
# Builds the Debian package with cargo-deb ([package.metadata.deb] in Cargo.toml) and checks it
# with lintian (no errors allowed). Installs cargo-deb (cargo install --locked) and lintian
# (apt-get) when they are missing. Prints the path of the .deb last.
#
#   contrib/deb.sh            # target/debian/cthelperd_<version>-1_<arch>.deb
set -eu
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked
command -v lintian >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lintian >/dev/null
} || { echo "$0: cannot install lintian (apt-get install lintian)" >&2; exit 1; }

cargo build --release
bin=target/release/cthelperd
a=target/assets
rm -rf "$a" && mkdir -p "$a"
# Generated from the program itself: the man pages (clap definition, configuration reference),
# the completions, and the example configuration (every key with its default and help text).
"$bin" man "$a" >/dev/null
gzip -9n "$a/cthelperd.8" "$a/cthelperd.toml.5"
"$bin" completions bash >"$a/cthelperd.bash"
"$bin" completions zsh >"$a/_cthelperd"
"$bin" completions fish >"$a/cthelperd.fish"
"$bin" check-config /dev/null >"$a/cthelperd.toml"

rm -f target/debian/cthelperd_*.deb
cargo deb --no-build --strip
deb=$(ls target/debian/cthelperd_*.deb)
echo "lintian $deb:"
lintian --fail-on error "$deb" || { echo "$0: lintian reports errors" >&2; exit 1; }
echo "$deb"
