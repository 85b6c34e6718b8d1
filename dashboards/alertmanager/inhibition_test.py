#!/usr/bin/env python3
"""Inhibition test for alertmanager.yml against a real Alertmanager.

    inhibition_test.py [ALERTMANAGER_BINARY [CONFIG]]

Starts Alertmanager on a free 127.0.0.1 port (clustering off, storage in a
temporary folder), posts alerts through its v2 API and checks that
BackupDrillRTOBreached/BackupDrillRPOBreached are inhibited while
BackupDrillFailed fires for the same drill, and only then. No notification is
sent: the test ends long before group_wait. Python 3 standard library only.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(base, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method="POST" if body is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def alert(name, severity, drill, instance="localhost:10125", **extra):
    now = datetime.now(timezone.utc)
    labels = {"alertname": name, "severity": severity, "job": "backupdrill",
              "instance": instance, "drill": drill, **extra}
    return {"labels": labels,
            "annotations": {"summary": "test"},
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat()}


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "prometheus-alertmanager"
    config = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "alertmanager.yml")
    if shutil.which(binary) is None and not os.access(binary, os.X_OK):
        print(f"inhibition_test: Alertmanager binary not found: {binary} "
              "(apt-get install prometheus-alertmanager)", file=sys.stderr)
        return 2

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp(prefix="backupdrill-am-")
    log = open(os.path.join(tmp, "alertmanager.log"), "w+")
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.path={tmp}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=log, stderr=subprocess.STDOUT)
    failures = []
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                request(base, "/api/v2/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    print("inhibition_test: Alertmanager did not start:\n" + log.read(), file=sys.stderr)
                    return 1
                time.sleep(0.2)

        request(base, "/api/v2/alerts", [
            # drill "broken": failed, and its RTO/RPO breached as a consequence
            alert("BackupDrillFailed", "critical", "broken", priority="sev2"),
            alert("BackupDrillRTOBreached", "warning", "broken"),
            alert("BackupDrillRPOBreached", "warning", "broken"),
            # drill "slow": passed, but too slowly -> not inhibited
            alert("BackupDrillRTOBreached", "warning", "slow"),
            # same drill name on another exporter: not inhibited by "broken"'s failure
            alert("BackupDrillRPOBreached", "warning", "broken", instance="other:10125"),
            # a failure never inhibits other critical alerts
            alert("BackupDrillNotRecent", "critical", "broken", priority="sev2"),
        ])

        expected = {
            ("BackupDrillFailed", "broken", "localhost:10125"): False,
            ("BackupDrillRTOBreached", "broken", "localhost:10125"): True,
            ("BackupDrillRPOBreached", "broken", "localhost:10125"): True,
            ("BackupDrillRTOBreached", "slow", "localhost:10125"): False,
            ("BackupDrillRPOBreached", "broken", "other:10125"): False,
            ("BackupDrillNotRecent", "broken", "localhost:10125"): False,
        }
        got = {}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            got = {}
            for a in request(base, "/api/v2/alerts"):
                l = a["labels"]
                got[(l["alertname"], l["drill"], l["instance"])] = bool(a["status"]["inhibitedBy"])
            if got == expected:
                break
            time.sleep(0.3)
        for key, want in expected.items():
            have = got.get(key)
            state = "missing" if have is None else ("inhibited" if have else "active")
            ok = have == want
            print(f"{'ok  ' if ok else 'FAIL'} {key[0]} drill={key[1]} instance={key[2]}: {state}"
                  f" (want {'inhibited' if want else 'active'})")
            if not ok:
                failures.append(key)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"inhibition_test: {len(expected) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
