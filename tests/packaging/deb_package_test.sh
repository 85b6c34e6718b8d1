#!/usr/bin/env bash
# deb_package_test.sh BUILD_DIR WORK_DIR
#
# The Debian package end to end, on this machine: cpack -G DEB, its contents
# (dpkg-deb -c: the man page, copyright, changelog), dpkg -i (then
# apt-get -f install if dependencies are missing), the installed exporter's
# --version, --list-checks (bundled plugins found with no config),
# --check-config of the installed config (as root and as the service user),
# the postinst's user, folder and modes, `systemd-analyze verify` of the
# installed unit, an out-of-tree plugin built with find_package(backupdrill)
# against the installed SDK and listed by the installed exporter, then
# dpkg --purge and what purge must remove.
#
# The machine is left as it was found, also on failure (trap): the package is
# purged, and the `backupdrill` system user is deleted when this test created
# it (the package itself keeps it on purge, as Debian recommends).
# Exit 77 (skipped): not root, or a backupdrill package is already installed.
set -euo pipefail
BUILD=${1:?usage: deb_package_test.sh BUILD_DIR WORK_DIR}
WORK=${2:?usage: deb_package_test.sh BUILD_DIR WORK_DIR}
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "--- $*"; }

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: installing a package needs root"
  exit 77
fi
if dpkg-query -W -f='${Status}' backupdrill 2>/dev/null | grep -q 'install ok'; then
  echo "SKIP: a backupdrill package is already installed here; not touching it"
  exit 77
fi

user_existed=0
getent passwd backupdrill >/dev/null && user_existed=1
oot_installed=""
cleanup() {
  local rc=$?
  [[ -n $oot_installed ]] && rm -f "$oot_installed"
  if dpkg-query -W backupdrill >/dev/null 2>&1; then
    dpkg --purge backupdrill >/dev/null 2>&1 || echo "cleanup: dpkg --purge backupdrill failed" >&2
  fi
  if ((user_existed == 0)) && getent passwd backupdrill >/dev/null; then
    userdel backupdrill 2>/dev/null || echo "cleanup: userdel backupdrill failed" >&2
    getent group backupdrill >/dev/null && groupdel backupdrill 2>/dev/null || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$WORK"
mkdir -p "$WORK"

step "cpack -G DEB"
cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1 ||
  { cat "$WORK/cpack.log"; fail "cpack -G DEB failed"; }
deb=$(ls "$WORK"/pkg/backupdrill_*.deb)
echo "$deb ($(du -h "$deb" | cut -f1))"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for dep in postgresql-client adduser libpq5 libpqxx libc6; do
  [[ $depends == *"$dep"* ]] || fail "Depends lacks $dep (shlibdeps or the explicit list)"
done
conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)
grep -qx /etc/backupdrill/backupdrill.toml <<<"$conffiles" || fail "backupdrill.toml is not a conffile"
grep -qx /etc/default/backupdrill <<<"$conffiles" || fail "/etc/default/backupdrill is not a conffile"

step "dpkg-deb -c: man page, copyright, changelog"
dpkg-deb -c "$deb" >"$WORK/contents.txt"
for f in ./usr/share/man/man1/backupdrill_exporter.1.gz ./usr/share/doc/backupdrill/copyright \
  ./usr/share/doc/backupdrill/changelog.Debian.gz; do
  grep -q " $f\$" "$WORK/contents.txt" || fail "the package lacks $f (dpkg-deb -c: $WORK/contents.txt)"
done
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/backupdrill/copyright >"$WORK/copyright"
grep -qx 'License: Apache-2.0' "$WORK/copyright" || fail "copyright does not name Apache-2.0"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/backupdrill/changelog.Debian.gz |
  gzip -dc | head -1 | grep -q "^backupdrill ($(dpkg-deb -f "$deb" Version)) " ||
  fail "changelog.Debian.gz does not start with the package's version $(dpkg-deb -f "$deb" Version)"
# The man page is --help's: every option, the runbook variables, the exit codes.
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/man/man1/backupdrill_exporter.1.gz |
  gzip -dc >"$WORK/backupdrill_exporter.1"
MANWIDTH=200 man -l "$WORK/backupdrill_exporter.1" >"$WORK/man.txt" 2>"$WORK/man.err" &&
  [[ ! -s $WORK/man.err ]] || { cat "$WORK/man.err"; fail "man cannot render the man page cleanly"; }
for needle in --config.file --web.listen-address --check-config SOURCE_DB_URL 'EXIT STATUS' \
  /etc/backupdrill/backupdrill.toml; do
  grep -qF -- "$needle" "$WORK/man.txt" || fail "the rendered man page lacks $needle ($WORK/man.txt)"
done

step "dpkg -i"
if ! dpkg -i "$deb" >"$WORK/dpkg.log" 2>&1; then
  cat "$WORK/dpkg.log"
  echo "dpkg -i left dependencies missing: apt-get -f install"
  DEBIAN_FRONTEND=noninteractive apt-get -f install -y -q || fail "apt-get -f install failed"
fi
dpkg-query -W -f='${Status}\n' backupdrill | grep -qx 'install ok installed' ||
  fail "backupdrill is not installed after dpkg -i"

exe=/usr/bin/backupdrill_exporter
step "$exe --version"
"$exe" --version | tee "$WORK/version.txt"
grep -q "0\.1\." "$WORK/version.txt" || fail "--version does not print the version"
grep -q "^  pg_dump: .*(/usr/lib/postgresql/" "$WORK/version.txt" ||
  fail "--version does not name the pg_dump of the installed postgresql-client"
[[ -f /usr/share/man/man1/backupdrill_exporter.1.gz ]] || fail "man page not installed"

step "--list-checks (no config, no BACKUPDRILL_PLUGIN_DIR)"
env -u BACKUPDRILL_PLUGIN_DIR "$exe" --list-checks | tee "$WORK/checks.txt"
for c in table_counts sql_assert api_health freshness amcheck; do
  grep -q "^$c"$'\t' "$WORK/checks.txt" || fail "--list-checks does not find the bundled $c"
done

step "postinst: user, state folder, modes"
getent passwd backupdrill >/dev/null || fail "no system user backupdrill"
uid=$(id -u backupdrill)
((uid < 1000)) || fail "backupdrill is not a system user (uid $uid)"
[[ $(stat -c '%a %U %G' /var/lib/backupdrill) == "700 backupdrill backupdrill" ]] ||
  fail "/var/lib/backupdrill is $(stat -c '%a %U %G' /var/lib/backupdrill), expected 700 backupdrill backupdrill"
[[ $(stat -c '%a %U %G' /etc/backupdrill/backupdrill.toml) == "640 root backupdrill" ]] ||
  fail "backupdrill.toml is $(stat -c '%a %U %G' /etc/backupdrill/backupdrill.toml)"
[[ $(stat -c '%a %U' /etc/default/backupdrill) == "600 root" ]] || fail "/etc/default/backupdrill is not 0600 root"

step "--check-config of the installed config"
export SOURCE_DB_URL=postgresql://drill@db.invalid:5432/app
export TARGET_DB_URL=postgresql://drill@staging.invalid:5432/drill_target
"$exe" --config.file=/etc/backupdrill/backupdrill.toml --check-config
# As the service user: it can read its config (group) and load the plugins.
runuser -u backupdrill -- env SOURCE_DB_URL="$SOURCE_DB_URL" TARGET_DB_URL="$TARGET_DB_URL" \
  "$exe" --config.file=/etc/backupdrill/backupdrill.toml --check-config
# Without the variables of /etc/default/backupdrill it refuses, naming one.
if out=$(env -u SOURCE_DB_URL "$exe" --config.file=/etc/backupdrill/backupdrill.toml \
  --check-config 2>&1); then
  fail "--check-config passed without SOURCE_DB_URL"
fi
grep -q SOURCE_DB_URL <<<"$out" || fail "the refusal does not name SOURCE_DB_URL: $out"

step "systemd-analyze verify"
unit=/usr/lib/systemd/system/backupdrill.service
[[ -f $unit ]] || fail "no $unit"
for key in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
  StateDirectory=backupdrill Restart=on-failure EnvironmentFile=-/etc/default/backupdrill \
  'ExecReload=/bin/kill -HUP $MAINPID' User=backupdrill; do
  grep -qxF "$key" "$unit" || fail "the unit lacks $key"
done
if ! systemd-analyze verify "$unit" >"$WORK/verify.log" 2>&1; then
  cat "$WORK/verify.log"
  fail "systemd-analyze verify rejects the unit"
fi
# verify exits 0 on some warnings: none may be about our unit.
if grep -i 'backupdrill' "$WORK/verify.log"; then
  fail "systemd-analyze verify warns about the unit"
fi
echo "systemd-analyze verify: clean"

step "out-of-tree plugin with find_package(backupdrill)"
cmake -S "$HERE/oot_plugin" -B "$WORK/oot" -G Ninja >"$WORK/oot-configure.log" 2>&1 ||
  { cat "$WORK/oot-configure.log"; fail "find_package(backupdrill) against the installed SDK failed"; }
grep -q "/usr/lib/cmake/backupdrill" "$WORK/oot/CMakeCache.txt" ||
  fail "the plugin did not use the installed /usr/lib/cmake/backupdrill"
cmake --build "$WORK/oot" >"$WORK/oot-build.log" 2>&1 ||
  { cat "$WORK/oot-build.log"; fail "the out-of-tree plugin does not build"; }
oot_installed=/usr/lib/backupdrill/checks/oot_hello.so
cmake --install "$WORK/oot" >/dev/null
[[ -f $oot_installed ]] || fail "install(... \${BACKUPDRILL_CHECKS_DIR}) did not put it in $oot_installed"
env -u BACKUPDRILL_PLUGIN_DIR "$exe" --list-checks | tee "$WORK/checks2.txt"
grep -q $'^oot_hello\t1.2.3\t' "$WORK/checks2.txt" || fail "the installed exporter does not list oot_hello"
"$exe" --sample-config=oot_hello | grep -q 'plugin = "oot_hello"' || fail "--sample-config=oot_hello"
rm -f "$oot_installed"
oot_installed=""

step "dpkg --purge"
dpkg --purge backupdrill >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "dpkg --purge failed"; }
! dpkg-query -W backupdrill >/dev/null 2>&1 || fail "backupdrill still known to dpkg after purge"
for p in "$exe" /usr/lib/backupdrill /etc/backupdrill /etc/default/backupdrill /var/lib/backupdrill \
  "$unit" /usr/include/backupdrill /usr/lib/cmake/backupdrill; do
  [[ ! -e $p ]] || fail "$p is left after purge"
done
echo "PASS"
