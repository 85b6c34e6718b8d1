#!/usr/bin/env python3
"""check_workflow_scripts.py ROOT WORKFLOW...

Every `run:` step of the GitHub workflows must call a script of this
repository, and every repository path a step names must exist: a renamed or
deleted script fails here, not at 04:00 on a Sunday. Also checks what the
runbook's drill workflow promises (triggers, secrets, artifact upload with
if: always()).
"""
import pathlib
import re
import sys

import yaml

# A repository path in a run: line, e.g. scripts/ops/backup-restore-drill.sh
PATH_RE = re.compile(r"(?<![\w/.$-])((?:\./)?(?:[\w.-]+/)+[\w.-]+\.(?:sh|ps1|py))\b")


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    errors = []
    for wf in sys.argv[2:]:
        doc = yaml.safe_load(pathlib.Path(wf).read_text())
        for job_name, job in (doc.get("jobs") or {}).items():
            for i, step in enumerate(job.get("steps") or []):
                where = f"{wf}: job {job_name}, step {i + 1} ({step.get('name', '?')})"
                run = step.get("run")
                if run is None:
                    continue
                lines = [l.strip() for l in run.splitlines() if l.strip() and not l.strip().startswith("#")]
                for line in lines:
                    paths = PATH_RE.findall(line)
                    if not paths:
                        errors.append(f"{where}: `{line}` does not call a repository script")
                    for p in paths:
                        f = root / p
                        if not f.is_file():
                            errors.append(f"{where}: {p} does not exist in the repository")
        if pathlib.Path(wf).name == "backup-drill.yml":
            errors += check_drill_workflow(wf, doc)
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print(f"{len(sys.argv) - 2} workflow(s): every run: step calls an existing repository script")
    return 1 if errors else 0


def check_drill_workflow(wf, doc):
    errors = []
    # PyYAML reads the key `on` as True.
    on = doc.get("on", doc.get(True)) or {}
    crons = [s.get("cron") for s in on.get("schedule") or []]
    if crons != ["0 4 * * 0"]:
        errors.append(f"{wf}: schedule is {crons}, expected Sunday 04:00 UTC ['0 4 * * 0']")
    if "workflow_dispatch" not in on:
        errors.append(f"{wf}: no workflow_dispatch trigger")
    text = pathlib.Path(wf).read_text()
    for secret in ("SOURCE_DB_URL", "TARGET_DB_URL", "TARGET_API_URL", "API_BEARER_TOKEN"):
        if f"secrets.{secret}" not in text:
            errors.append(f"{wf}: secret {secret} is not passed")
    steps = [s for job in doc["jobs"].values() for s in job.get("steps") or []]
    drill = [s for s in steps if "scripts/ops/backup-restore-drill.sh" in (s.get("run") or "")]
    if not drill:
        errors.append(f"{wf}: no step runs scripts/ops/backup-restore-drill.sh")
    elif drill[0].get("continue-on-error") or "|| true" in drill[0]["run"]:
        errors.append(f"{wf}: the drill step must fail the job when the drill fails")
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    if not uploads or uploads[0].get("if") != "always()":
        errors.append(f"{wf}: the artifacts must be uploaded with if: always()")
    return errors


if __name__ == "__main__":
    sys.exit(main())
