#!/usr/bin/env bash
# Installs what building and smoke-testing every prebuilt helper needs, from
# Debian's own packages: gcc and the C library headers for x86_64 and aarch64
# (glibc; without the cross headers Debian's cross gcc would fall back on the
# host's /usr/include), musl-dev of both architectures (musl builds go
# through its musl-gcc.specs), and qemu-user with the other architecture's
# libstdc++ to run its Node. Needs root and apt (Debian 12 or later, x86_64 or aarch64).
# Installs nothing that is already there; about 20 s on a fresh machine.
set -euo pipefail

host=$(dpkg --print-architecture 2>/dev/null) || { echo "install-toolchains: needs Debian's dpkg and apt" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "install-toolchains: run as root (apt-get install)" >&2; exit 1; }

case "$host" in
  amd64) other=arm64 packages=(gcc binutils musl-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross libstdc++6-arm64-cross musl-dev:arm64 qemu-user) ;;
  arm64) other=amd64 packages=(gcc binutils musl-dev gcc-x86-64-linux-gnu libc6-dev-amd64-cross libstdc++6-amd64-cross musl-dev:amd64 qemu-user) ;;
  *) echo "install-toolchains: no cross compilers set up for a $host machine" >&2; exit 1 ;;
esac

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && { echo "install-toolchains: all installed"; exit 0; }

# musl-dev of the other architecture comes from that architecture's package list.
dpkg --print-foreign-architectures | grep -qx "$other" || dpkg --add-architecture "$other"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-toolchains: installed ${missing[*]}"
