#!/usr/bin/env python3
"""The backupdrill monitoring mixin: generates the alert/recording rules and the Grafana dashboard.

    dashboards/mixin.py                       write the committed files (the defaults)
    dashboards/mixin.py --check               exit 1 if a committed file differs from what the
                                              defaults generate (ctest dashboards_mixin_generated)
    dashboards/mixin.py --out-dir DIR [PARAMETERS]
                                              write your own copy into DIR

Parameters (defaults in brackets) are the mixin's knobs: the selector that
picks the exporter's series in the rules, the thresholds, and where runbook
links point. Generated files:

    prometheus/backupdrill.rules.yml     the alert and recording rules
    grafana/backupdrill-overview.json    the dashboard

Then run deploy/kubernetes/generate-prometheusrule.py for the Kubernetes copy
of the rules. Python 3 standard library only.
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "prometheus"))
sys.path.insert(0, os.path.join(HERE, "grafana"))
import generate_overview  # noqa: E402
import generate_rules  # noqa: E402

# The runbook the exporter serves itself (GET /runbook): the alert's own
# instance label is the exporter's address as Prometheus scrapes it.
EXPORTER_RUNBOOK = "http://{{ $labels.instance }}/runbook"

OUTPUTS = (
    ("prometheus/backupdrill.rules.yml", generate_rules.render),
    ("grafana/backupdrill-overview.json", generate_overview.render),
)


def duration(text):
    if not re.fullmatch(r"([0-9]+(ms|s|m|h|d|w|y))+", text):
        raise argparse.ArgumentTypeError(f"not a Prometheus duration: {text!r} (e.g. 5m, 1h30m)")
    return text


def selector(text):
    # One or more label matchers as they go between { and } of a PromQL selector.
    matcher = r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*'
    if not re.fullmatch(f"{matcher}(,{matcher})*", text):
        raise argparse.ArgumentTypeError(
            f'not a list of label matchers: {text!r} (e.g. job="backupdrill" or job=~"backupdrill|pg-.*")')
    if not re.search(r'(^|,)\s*job\s*(=|=~)', text):
        raise argparse.ArgumentTypeError(f"the selector must match on job (the alerts report it): {text!r}")
    return text


def runbook_base(text):
    # Alert templates such as {{ $labels.instance }} may be part of it.
    plain = re.sub(r"\{\{[^{}]*\}\}", "x", text)
    if not re.fullmatch(r"https?://\S+", plain) or "#" in plain:
        raise argparse.ArgumentTypeError(
            f"not an http(s) URL without a #fragment: {text!r} (each alert adds #<its name in lower case>)")
    return text.rstrip("/")


def parser():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--selector", type=selector, default='job="backupdrill"',
                    help='label matchers for every series the rules read [job="backupdrill"]')
    ap.add_argument("--failed-for", type=duration, default="5m", help="BackupDrillFailed for: [5m]")
    ap.add_argument("--not-recent-for", type=duration, default="10m", help="BackupDrillNotRecent for: [10m]")
    ap.add_argument("--rto-for", type=duration, default="5m", help="BackupDrillRTOBreached for: [5m]")
    ap.add_argument("--rpo-for", type=duration, default="5m", help="BackupDrillRPOBreached for: [5m]")
    ap.add_argument("--down-for", type=duration, default="5m", help="BackupDrillExporterDown for: [5m]")
    ap.add_argument("--not-recent-grace-min", type=int, default=3600, metavar="SECONDS",
                    help="NotRecent grace is max(this, ratio * interval) past the schedule interval [3600]")
    ap.add_argument("--not-recent-grace-ratio", type=float, default=0.25, metavar="RATIO",
                    help="share of the schedule interval in the NotRecent grace [0.25]")
    ap.add_argument("--runbook-url-base", type=runbook_base, default=EXPORTER_RUNBOOK, metavar="URL",
                    help="where runbook links point; each alert appends #<alertname in lower case> "
                         "[the exporter's own page: http://{{ $labels.instance }}/runbook]")
    ap.add_argument("--out-dir", metavar="DIR", help="write into DIR instead of dashboards/")
    ap.add_argument("--check", action="store_true",
                    help="compare the defaults' output with the committed files; write nothing")
    return ap


def main(argv):
    ap = parser()
    args = ap.parse_args(argv)
    if args.check:
        if args.out_dir or argv != ["--check"]:
            ap.error("--check compares the defaults with the committed files: give it alone")
        stale = []
        for rel, render in OUTPUTS:
            path = os.path.join(HERE, rel)
            try:
                with open(path, encoding="utf-8") as f:
                    current = f.read()
            except OSError as e:
                print(f"mixin: cannot read {path}: {e}", file=sys.stderr)
                return 1
            if current != render(args):
                stale.append(rel)
        if stale:
            print(f"mixin: out of date with dashboards/mixin.py: {', '.join(stale)}; run "
                  f"dashboards/mixin.py and commit the result", file=sys.stderr)
            return 1
        print(f"mixin: {len(OUTPUTS)} generated files match the generator's defaults")
        return 0
    out = args.out_dir or HERE
    for rel, render in OUTPUTS:
        path = os.path.join(out, rel if not args.out_dir else os.path.basename(rel))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(render(args))
        print(f"mixin: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
