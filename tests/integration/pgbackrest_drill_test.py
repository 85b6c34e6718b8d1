#!/usr/bin/env python3
"""Physical drills of a real pgBackRest repository with the real exporter (issue 14).

Usage: pgbackrest_drill_test.py <exporter binary> <plugin dir> <fixture dir> <work dir>

The fixture (pgbackrest_repo.sh) is a PostgreSQL 15 cluster archiving into a
repository with one full backup, 100 rows committed at T1 and 50 more after
T2. Each case runs `backupdrill_exporter --once` on its own config and reads
the run's summary JSON. Runs as root (run_as = "postgres") or as the cluster's
owner.
"""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

EXPORTER, PLUGINS, FIXTURE, WORK = (os.path.abspath(a) for a in sys.argv[1:5])
FACTS = {}
with open(os.path.join(FIXTURE, "facts")) as f:
    for line in f:
        key, _, value = line.strip().partition("=")
        FACTS[key] = value.strip("'")
CONF = os.path.join(FIXTURE, "pgbackrest.conf")
ROOT = os.geteuid() == 0
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def as_owner(args, **kw):
    prefix = ["runuser", "-u", "postgres", "--"] if ROOT else []
    return subprocess.run(prefix + args, cwd="/", capture_output=True, text=True, **kw)


def archive_range(conf=CONF):
    out = as_owner(["pgbackrest", f"--config={conf}", "--stanza=main", "info", "--output=json"])
    a = json.loads(out.stdout)[0]["archive"][0]
    return a["min"] + "-" + a["max"]


def source_rows():
    out = subprocess.run(["psql", "-X", "-At", FACTS["ADMIN_URL"], "-c",
                          "select count(*) from public.drill_rows"],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def write_config(name, *, conf=CONF, target="latest", expect_rows=150, keep_failed=False,
                 extra_restore="", extra_checks="", extra_exporter=""):
    case = os.path.join(WORK, name)
    os.makedirs(case, exist_ok=True)
    work_dir = os.path.join(case, "w")  # short: the server's socket lives in it
    toml = f"""
[exporter]
artifact_dir = "{case}/artifacts"
plugin_dir = "{PLUGINS}"
{extra_exporter}

[[drill]]
name = "{name}"
rpo_target = "1h"
rto_target = "10m"
timeout = "2m"
source_url = "{FACTS['ADMIN_URL']}"

[drill.backup]
source = "pgbackrest"
stanza = "main"
config = "{conf}"
recovery_target = "{target}"

[drill.restore]
work_dir = "{work_dir}"
run_as = "postgres"
keep_failed = {"true" if keep_failed else "false"}
{extra_restore}

[[drill.check]]
plugin = "sql_assert"
name = "rows"
query = "select count(*) from public.drill_rows"
expect = {expect_rows}

[[drill.check]]
plugin = "table_counts"
name = "parity"
tables = ["public.drill_rows"]
compare_source = true
tolerance = "100%"

[[drill.check]]
plugin = "amcheck"
name = "structure"
{extra_checks}
"""
    path = os.path.join(case, "drill.toml")
    with open(path, "w") as f:
        f.write(toml)
    return path, case, work_dir


def run_once(config):
    started = time.monotonic()
    proc = subprocess.run([EXPORTER, f"--config.file={config}", "--once"], capture_output=True,
                          text=True, timeout=120)
    seconds = time.monotonic() - started
    case = os.path.dirname(config)
    summaries = sorted(glob.glob(os.path.join(case, "artifacts", "*", "drill_summary_*.json")))
    summary = json.load(open(summaries[-1])) if summaries else {}
    return proc, summary, seconds


def tail(proc):
    return "" if proc.returncode == 0 else proc.stdout[-400:] + proc.stderr[-800:]


def run_dirs(work_dir):
    return sorted(os.listdir(work_dir)) if os.path.isdir(work_dir) else []


def copy_repo(name, extra=""):
    """A copy of the repository and a config pointing at it (the fixture stays intact)."""
    base = os.path.join(WORK, name + "-repo")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    if ROOT:
        shutil.chown(base, "postgres", "postgres")
    as_owner(["cp", "-a", os.path.join(FIXTURE, "repo"), os.path.join(base, "repo")], check=True)
    text = open(CONF).read().replace(f"repo1-path={FIXTURE}/repo",
                                     f"repo1-path={base}/repo\n{extra}")
    conf = os.path.join(base, "pgbackrest.conf")
    with open(conf, "w") as f:
        f.write(text)
    os.chmod(conf, 0o644)
    return base, conf


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
os.chmod(WORK, 0o755)
range_before = archive_range()
rows_before = source_rows()

# 0. --check-config accepts a good physical drill and refuses a bad one by key and line.
config, case, work_dir = write_config("cfg")
proc = subprocess.run([EXPORTER, f"--config.file={config}", "--check-config"], capture_output=True,
                      text=True, timeout=60)
check(proc.returncode == 0, f"check-config: a good pgbackrest drill is valid ({proc.stderr[-300:]})")
with open(config) as f:
    text = f.read()
with open(config, "w") as f:
    f.write(text.replace('source_url = ', 'target_url = "postgresql://u@127.0.0.1/x"\nsource_url = '))
proc = subprocess.run([EXPORTER, f"--config.file={config}", "--check-config"], capture_output=True,
                      text=True, timeout=60)
check(proc.returncode == 2 and 'key "target_url"' in proc.stderr and "drill.toml:" in proc.stderr,
      f"check-config: target_url refused by key and line ({proc.stderr[-300:]})")
figures = {}

# 1. latest: every archived row, objectives measured, nothing left, nothing pushed.
config, case, work_dir = write_config("latest")
os.makedirs(work_dir, exist_ok=True)
if ROOT:
    shutil.chown(work_dir, "postgres", "postgres")
os.chmod(work_dir, 0o700)
# A leftover of a crashed run (marked, its process gone) and a directory the
# exporter does not own: the first is removed, the second kept.
leftover = os.path.join(work_dir, "20000101T000000Z")
os.makedirs(leftover)
with open(os.path.join(leftover, ".backupdrill-run"), "w") as f:
    f.write("999999999\nnot-a-process\n")
foreign = os.path.join(work_dir, "not-ours")
os.makedirs(foreign)
proc, s, seconds = run_once(config)
figures["latest"] = seconds
check(proc.returncode == 0, f"latest: drill passes (exit {proc.returncode}) {tail(proc)}")
check(s.get("result") == "passed", "latest: summary says passed")
check(s.get("rto", {}).get("seconds") is not None, "latest: RTO measured")
check(s.get("rpo", {}).get("seconds") is not None, "latest: RPO measured")
check(s.get("snapshot_time") is not None, "latest: recovery point recorded")
phases = [p["phase"] for p in s.get("phases", [])]
check(phases[:4] == ["guard", "restore", "recover", "checks"],
      f"latest: phases guard, restore, recover, checks ({phases})")
phys = s.get("physical", {})
for key in ("backup_label", "backup_size_bytes", "pgbackrest_version", "postgresql_version",
            "wal_replayed", "cleanup", "recovery_point"):
    check(bool(phys.get(key)), f"latest: summary records {key} ({phys.get(key)})")
check("removed" in phys.get("cleanup", ""), "latest: cleanup removed the run directory")
check(run_dirs(work_dir) == ["not-ours"],
      f"latest: leftover removed, foreign dir kept, run dir gone ({run_dirs(work_dir)})")
check(any("interrupted run" in n for n in s.get("notes", [])), "latest: leftover removal noted")
check(phys.get("archive_range_before") == phys.get("archive_range_after") == range_before,
      "latest: pgbackrest info shows the same archive range before and after")
rows = [c for c in s.get("checks", []) if c["name"] == "rows"]
check(bool(rows) and rows[0]["result"] == "passed", "latest: 150 rows restored (up to T2)")
structure = [c for c in s.get("checks", []) if c["name"] == "structure"]
check(bool(structure) and structure[0]["result"] == "passed",
      f"latest: amcheck passes on the physical restore ({structure})")
md = glob.glob(os.path.join(case, "artifacts", "*", "drill_summary_*.md"))
check(bool(md) and "Physical restore" in open(md[-1]).read(), "latest: md summary has the facts")

# 2. a time between T1 and T2: exactly the rows up to T1; the recovery point is that time.
config, case, work_dir = write_config("time", target=FACTS["T_MID"], expect_rows=100)
proc, s, seconds = run_once(config)
figures["time"] = seconds
check(proc.returncode == 0, f"time: drill passes (exit {proc.returncode}) {tail(proc)}")
rows = [c for c in s.get("checks", []) if c["name"] == "rows"]
check(bool(rows) and rows[0]["result"] == "passed", "time: exactly 100 rows (up to T1)")
check(s.get("rpo", {}).get("seconds") is not None and s.get("rto", {}).get("seconds") is not None,
      "time: RTO and RPO measured")
mid = FACTS["T_MID"].replace(" ", "T")[:19]
check((s.get("snapshot_time") or "").startswith(mid),
      f"time: recovery point is the target ({s.get('snapshot_time')} vs {mid})")
check(run_dirs(work_dir) == [], "time: run directory gone")

# 3. a WAL segment missing from the repository: fails in recover quoting the server.
base, conf = copy_repo("nowal")
segment = FACTS["ARCHIVE_RANGE"].split("-")[1]
missing = "%s%08X" % (segment[:16], int(segment[16:], 16) - 1)
removed = glob.glob(os.path.join(base, "repo", "archive", "main", "*", "*", missing + "*"))
check(len(removed) == 1, f"nowal: segment {missing} found in the copy ({removed})")
for r in removed:
    os.remove(r)
config, case, work_dir = write_config("nowal", conf=conf)
proc, s, seconds = run_once(config)
figures["missing WAL"] = seconds
check(proc.returncode == 1, f"nowal: drill fails (exit {proc.returncode})")
check(s.get("failed_phase") == "recover", f"nowal: failed in recover ({s.get('failed_phase')})")
check(missing in s.get("error", "") and "redo done" in s.get("error", ""),
      f"nowal: the error quotes the server: {s.get('error')}")
check(run_dirs(work_dir) == [], "nowal: run directory gone")
check("stopped" in s.get("physical", {}).get("cleanup", ""), "nowal: server stopped")

# 3b. the same gap with a time target beyond it: the server's own FATAL.
config, case, work_dir = write_config("nowal-time", conf=conf,
                                      target=time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime()))
proc, s, seconds = run_once(config)
check(s.get("failed_phase") == "recover", f"nowal-time: failed in recover ({s.get('failed_phase')})")
check("recovery ended before configured recovery target was reached" in s.get("error", ""),
      f"nowal-time: quotes the server's FATAL: {s.get('error')}")
check(run_dirs(work_dir) == [], "nowal-time: run directory gone")

# 4. a corrupted backup file: fails in restore quoting pgBackRest; keep_failed keeps it.
# (no retries: pgBackRest waits 15 s before its second one)
base, conf = copy_repo("corrupt", "job-retry=0")
label = json.loads(as_owner(["pgbackrest", f"--config={conf}", "--stanza=main", "info",
                             "--output=json"]).stdout)[0]["backup"][-1]["label"]
victim = os.path.join(base, "repo", "backup", "main", label, "pg_data", "global", "pg_control")
victim = victim if os.path.exists(victim) else glob.glob(victim + "*")[0]
with open(victim, "r+b") as f:
    f.seek(100)
    f.write(b"\xde\xad\xbe\xef" * 8)
config, case, work_dir = write_config("corrupt", conf=conf)
proc, s, seconds = run_once(config)
figures["corrupt"] = seconds
check(proc.returncode == 1, f"corrupt: drill fails (exit {proc.returncode})")
check(s.get("failed_phase") == "restore", f"corrupt: failed in restore ({s.get('failed_phase')})")
check("ERROR: [" in s.get("error", ""), f"corrupt: quotes pgBackRest: {s.get('error')}")
check(run_dirs(work_dir) == [], "corrupt: run directory gone")
config, case, work_dir = write_config("keep", conf=conf, keep_failed=True)
proc, s, seconds = run_once(config)
kept = run_dirs(work_dir)
check(len(kept) == 1 and os.path.exists(os.path.join(work_dir, kept[0], ".backupdrill-kept")),
      f"keep_failed: the failed run's directory is kept and unmarked ({kept})")
check(any("kept for inspection" in n for n in s.get("notes", [])), "keep_failed: path noted")
shutil.rmtree(work_dir, ignore_errors=True)

# 4b. the exporter killed (kill -9) while its throwaway server runs: the server and
# its backends die with it, and the next run removes the directory and passes.
def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def server_processes(postmaster):
    """The postmaster and its children (each in a session of its own)."""
    found = [postmaster] if alive(postmaster) else []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster and fields[0] != "Z":
                    found.append(int(entry))
            except OSError:
                pass
    return found


hold = """
[[drill.check]]
plugin = "sql_assert"
name = "hold"
query = "select count(*) from pg_sleep(60)"
expect = 1
"""
config, case, work_dir = write_config("killed", extra_checks=hold)
log_path = os.path.join(case, "exporter.log")
with open(log_path, "w") as log:
    victim = subprocess.Popen([EXPORTER, f"--config.file={config}", "--once"],
                              stdout=log, stderr=subprocess.STDOUT)
postmaster = None
deadline = time.monotonic() + 90
while time.monotonic() < deadline and victim.poll() is None:
    if "phase=checks" in open(log_path).read():
        pids = glob.glob(os.path.join(work_dir, "*", "**", "postmaster.pid"), recursive=True)
        if pids:
            postmaster = int(open(pids[0]).readline())
            break
    time.sleep(0.2)
check(postmaster is not None and alive(postmaster),
      f"killed: the throwaway server runs during the checks (pid {postmaster})")
time.sleep(1)  # inside the hold check's pg_sleep
server = server_processes(postmaster) if postmaster else []
check(len(server) >= 5, f"killed: the server's processes seen ({server})")
victim.kill()
victim.wait(timeout=10)
left = server
for _ in range(100):
    left = [p for p in server if alive(p)]
    if not left:
        break
    time.sleep(0.2)
check(bool(server) and not left,
      f"killed: the server and its {len(server) - 1} children died with the exporter (left: {left})")
check(len(run_dirs(work_dir)) == 1, f"killed: its run directory is left ({run_dirs(work_dir)})")
# The exporter started again (serve mode, no drill due) removes the leftover at
# start, not at the drill's next run; a foreign folder in work_dir is kept.
config, case, work_dir = write_config("killed")
foreign = os.path.join(work_dir, "not-the-exporters")
os.makedirs(foreign)
with socket.socket() as sock:
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
summaries_before = glob.glob(os.path.join(case, "artifacts", "*", "drill_summary_*.json"))
serve_log = os.path.join(case, "serve.log")
with open(serve_log, "w") as log:
    server = subprocess.Popen([EXPORTER, f"--config.file={config}",
                               f"--web.listen-address=127.0.0.1:{port}"],
                              stdout=log, stderr=subprocess.STDOUT)
try:
    for _ in range(100):
        if run_dirs(work_dir) == ["not-the-exporters"]:
            break
        time.sleep(0.1)
finally:
    server.terminate()
    server.wait(timeout=20)
check(run_dirs(work_dir) == ["not-the-exporters"],
      f"killed: the leftover is removed at exporter start, the foreign folder kept ({run_dirs(work_dir)})")
check("removed a leftover run directory" in open(serve_log).read(),
      "killed: the removal at start is logged")
check(glob.glob(os.path.join(case, "artifacts", "*", "drill_summary_*.json")) == summaries_before,
      "killed: no drill ran to remove it")
shutil.rmtree(foreign)
proc, s, seconds = run_once(config)
check(proc.returncode == 0, f"killed: the next run passes (exit {proc.returncode}) {tail(proc)}")
check(run_dirs(work_dir) == [], f"killed: nothing left in work_dir ({run_dirs(work_dir)})")
interrupted = [json.load(open(p)) for p in
               glob.glob(os.path.join(case, "artifacts", "*", "drill_summary_*.json"))]
check(any(r.get("failed_phase") == "interrupted" for r in interrupted),
      "killed: the killed run is recorded as interrupted")

# 4c. a work_dir on a file system too small for the backup: refused in the guard,
# naming both figures, before anything is written there (root: a small tmpfs).
if ROOT:
    config, case, work_dir = write_config("small")
    os.makedirs(work_dir, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", work_dir],
                             capture_output=True, text=True).returncode == 0
    if mounted:
        try:
            shutil.chown(work_dir, "postgres", "postgres")
            proc, s, seconds = run_once(config)
            check(proc.returncode == 1, f"small: drill fails (exit {proc.returncode})")
            check(s.get("failed_phase") == "guard", f"small: failed in guard ({s.get('failed_phase')})")
            err = s.get("error", "")
            check("not enough free space in [drill.restore] work_dir" in err and "MiB" in err and
                  "are free" in err, f"small: the error names both figures: {err}")
            check(run_dirs(work_dir) == [], f"small: nothing written ({run_dirs(work_dir)})")
        finally:
            subprocess.run(["umount", "-l", work_dir])
    else:
        print("skip small: cannot mount a tmpfs here")

# 5. the source is untouched, the fixture's repository unchanged.
check(source_rows() == rows_before, "source: row count unchanged")
check(archive_range() == range_before, "source: archive range unchanged")

# 6. /metrics: the drill with its recover series (the last run reloaded at start).
config = os.path.join(WORK, "latest", "drill.toml")
with socket.socket() as sock:
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
server = subprocess.Popen([EXPORTER, f"--config.file={config}",
                           f"--web.listen-address=127.0.0.1:{port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
metrics = api = landing = ""
try:
    for _ in range(100):
        try:
            metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            break
        except OSError:
            time.sleep(0.2)
    base = f"http://127.0.0.1:{port}"
    api = urllib.request.urlopen(f"{base}/api/v1/drills", timeout=5).read().decode()
    landing = urllib.request.urlopen(f"{base}/", timeout=5).read().decode()
finally:
    server.terminate()
    server.wait(timeout=20)
m = re.search(r'backupdrill_phase_duration_seconds\{drill="latest",phase="recover"\} (\S+)', metrics)
check(m is not None and float(m.group(1)) > 0, f"metrics: phase_duration_seconds recover ({m and m.group(1)})")
check('backupdrill_failures_total{drill="latest",phase="recover"}' in metrics,
      "metrics: failures_total with phase recover")

# The API and the landing page show the physical drill like every other.
drills = json.loads(api or "{}")
drills = drills.get("drills", drills) if isinstance(drills, dict) else drills
latest = next((d for d in drills if d.get("name") == "latest"), None)
check(latest is not None and latest.get("last_run") is not None,
      f"api: drill latest with its last run ({api[:200]})")
check('href="/drills/latest/runs/' in landing, "landing page: links the physical drill's run")

# 7. While pgbackrest restores, the API and the landing page show how much it
# has written of the data directory's size. A pgbackrest first in PATH runs
# the real one, then holds the restore phase for a few seconds.
config, case, work_dir = write_config("progress", extra_exporter='admin_token = "progress-token"')
wrappers = os.path.join(case, "bin")
os.makedirs(wrappers, exist_ok=True)
real = shutil.which("pgbackrest")
with open(os.path.join(wrappers, "pgbackrest"), "w") as f:
    f.write(f"""#!/bin/sh
case " $* " in
  *" restore"*) "{real}" "$@"; rc=$?; sleep 6; exit $rc ;;
esac
exec "{real}" "$@"
""")
os.chmod(os.path.join(wrappers, "pgbackrest"), 0o755)
for d in (case, wrappers):
    os.chmod(d, 0o755)
with socket.socket() as sock:
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
env = dict(os.environ, PATH=wrappers + os.pathsep + os.environ.get("PATH", ""))
server = subprocess.Popen([EXPORTER, f"--config.file={config}",
                           f"--web.listen-address=127.0.0.1:{port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
base = f"http://127.0.0.1:{port}"
progress = None
page = ""
try:
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/-/ready", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    trigger = urllib.request.Request(f"{base}/api/v1/drills/progress/run", method="POST",
                                     headers={"Authorization": "Bearer progress-token"})
    urllib.request.urlopen(trigger, timeout=5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = json.loads(urllib.request.urlopen(f"{base}/api/v1/drills", timeout=5).read())
        listed = listed.get("drills", listed) if isinstance(listed, dict) else listed
        mine = next((d for d in listed if d.get("name") == "progress"), {})
        p = mine.get("progress")
        if p and p.get("phase") == "restore" and p.get("bytes_total") and \
                p["bytes_done"] >= p["bytes_total"] // 2:
            progress = p
            page = urllib.request.urlopen(f"{base}/", timeout=5).read().decode()
            break
        time.sleep(0.3)
finally:
    server.terminate()
    server.wait(timeout=30)
check(progress is not None and 0 < progress["bytes_done"] <= progress["bytes_total"],
      f"progress: the API shows pgbackrest's bytes written during the restore ({progress})")
check("restored " in page and " of " in page, "progress: the landing page says restored … of …")

print("figures (seconds per --once run):", {k: round(v, 1) for k, v in figures.items()})
if failures:
    sys.exit(f"{len(failures)} check(s) failed")
