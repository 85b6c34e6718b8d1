#!/usr/bin/env python3
"""Applies the rules of grafana/dashboard-linter to the Grafana dashboards.

    lint_dashboards.py [FILE.json ...]
        Lint (default: every dashboards/grafana/*.json). Exit 0 when clean, 1 with
        one line per problem on stderr ("RULE: dashboard: where: what"), 2 on
        usage errors.

    lint_dashboards.py --expect-every-rule FILE.json
        The linter's own test: exit 0 only if FILE (a dashboard that breaks
        every rule, tests/fixtures/lint_breaks_every_rule.json) makes every
        rule below report at least one problem; a rule that stays silent on it
        could not catch anything.

The rules, as dashboard-linter states them (its names, so a reader can look
them up; this is a re-statement in Python, not its code):
  template-datasource-rule   a variable `datasource` of type datasource, query
                             prometheus, labelled "Data source"
  template-job-rule,         variables `job` and `instance`: type query on
  template-instance-rule     ${datasource}, labelled "Job"/"Instance", multi,
                             include All, allValue ".+"
  template-on-time-change-reload-rule  query variables refresh on time range change (2)
  panel-datasource-rule      every panel and target uses ${datasource}
  panel-title-description-rule  every panel (not rows) has a title and a description
  panel-units-rule           every panel (not rows) has a Grafana unit
  panel-no-targets-rule      every panel (not rows) has a target with an expr
  target-job-rule,           every vector selector of every query, the ALERTS
  target-instance-rule       one too, carries job=~"$job" and instance=~"$instance"
  target-rate-interval-rule  rate()/irate() range is $__rate_interval
  uneditable-dashboard-rule  "editable": false

Python 3 standard library only.
"""
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from validate_dashboards import LABEL_VALUES_RE, selectors, walk_panels, ds_uid, var_query  # noqa: E402

GRAFANA_DIR = os.path.normpath(os.path.join(HERE, "..", "grafana"))
DATASOURCE_REFS = {"$datasource", "${datasource}"}

# Grafana's unit ids (the ones a dashboard of durations, counts, sizes and
# ratios can use; Grafana knows more, add them when a panel needs one).
UNITS = {
    "none", "string", "short", "percent", "percentunit", "locale", "sci", "hex", "bool",
    "bool_yes_no", "bool_on_off", "bytes", "decbytes", "bits", "decbits", "kbytes", "mbytes",
    "gbytes", "Bps", "binBps", "bps", "ns", "µs", "ms", "s", "m", "h", "d", "dtdurationms",
    "dtdurations", "dthms", "dtdhms", "clockms", "clocks", "hertz", "dateTimeAsIso",
    "dateTimeAsIsoNoDateIfToday", "dateTimeAsLocal", "dateTimeAsLocalNoDateIfToday",
    "dateTimeAsSystem", "dateTimeFromNow", "ops", "reqps", "rps", "wps", "iops", "cps", "opm",
}

RULES = (
    "template-datasource-rule", "template-job-rule", "template-instance-rule",
    "template-on-time-change-reload-rule", "panel-datasource-rule",
    "panel-title-description-rule", "panel-units-rule", "panel-no-targets-rule",
    "target-job-rule", "target-instance-rule", "target-rate-interval-rule",
    "uneditable-dashboard-rule",
)

RANGE_FN_RE = re.compile(r'\b(rate|irate)\s*\(')


class Report:
    def __init__(self):
        self.problems = []  # (rule, text)

    def add(self, rule, where, msg):
        assert rule in RULES, rule
        self.problems.append((rule, f"{rule}: {where}: {msg}"))


def lint_variable(name, label, variables, dash_name, report):
    rule = f"template-{name}-rule"
    where = f"{dash_name}: variable {name}"
    v = variables.get(name)
    if v is None:
        report.add(rule, dash_name, f"no '{name}' template variable")
        return
    if ds_uid(v.get("datasource")) not in DATASOURCE_REFS:
        report.add(rule, where, f"datasource must be $datasource, is {v.get('datasource')!r}")
    if v.get("type") != "query":
        report.add(rule, where, f"must be a Prometheus query variable, is type {v.get('type')!r}")
    if v.get("label") != label:
        report.add(rule, where, f"must be labelled {label!r}, is {v.get('label')!r}")
    if not v.get("multi"):
        report.add(rule, where, "must be multi-select")
    if not v.get("includeAll"):
        report.add(rule, where, "must include All")
    if v.get("allValue") != ".+":
        report.add(rule, where, f"allValue must be '.+', is {v.get('allValue')!r}")


def matcher_is_var(matchers, label):
    got = matchers.get(label)
    return got is not None and got[0] == "=~" and got[1] in (f"${label}", f"${{{label}}}")


def range_args(expr):
    """The [range] of every rate()/irate() call in expr (a scan, enough for our queries)."""
    out = []
    for m in RANGE_FN_RE.finditer(expr):
        depth, i = 0, m.end() - 1
        while i < len(expr):
            if expr[i] == "(":
                depth += 1
            elif expr[i] == ")":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        out.extend(re.findall(r'\[([^\]]*)\]', expr[m.end():i]))
    return out


def lint(path, dash, report):
    name = os.path.basename(path)
    if dash.get("editable") is not False:
        report.add("uneditable-dashboard-rule", name, f'"editable" must be false, is {dash.get("editable")!r}')

    templating = (dash.get("templating") or {}).get("list") or []
    variables = {v.get("name"): v for v in templating}
    ds = variables.get("datasource")
    if ds is None or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        report.add("template-datasource-rule", name,
                   "needs a variable 'datasource' of type datasource with query prometheus")
    elif ds.get("label") != "Data source":
        report.add("template-datasource-rule", name, f"variable datasource must be labelled 'Data source', "
                   f"is {ds.get('label')!r}")
    lint_variable("job", "Job", variables, name, report)
    lint_variable("instance", "Instance", variables, name, report)
    for v in templating:
        if v.get("type") == "query" and v.get("refresh") != 2:
            report.add("template-on-time-change-reload-rule", f"{name}: variable {v.get('name')}",
                       f"refresh must be 2 (on time range change), is {v.get('refresh')!r}")
        # The job variable lists jobs, instance the instances of the chosen jobs,
        # every later variable the values within the chosen jobs and instances.
        m = LABEL_VALUES_RE.match(var_query(v) or "") if v.get("type") == "query" else None
        if m and v.get("name") != "job":
            check_selectors(f"{name}: variable {v.get('name')}", m.group(1), report,
                            need_instance=v.get("name") != "instance")

    for p in walk_panels(dash.get("panels")):
        where = f"{name}: panel {p.get('id')} {p.get('title')!r}"
        if ds_uid(p.get("datasource")) not in DATASOURCE_REFS:
            report.add("panel-datasource-rule", where, f"datasource must be $datasource, is {p.get('datasource')!r}")
        if p.get("type") == "row":
            continue
        if not str(p.get("title") or "").strip() or not str(p.get("description") or "").strip():
            report.add("panel-title-description-rule", where, "needs a title and a description")
        unit = ((p.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
        if unit not in UNITS:
            report.add("panel-units-rule", where, f"no or unknown unit (fieldConfig.defaults.unit): {unit!r}")
        targets = [t for t in p.get("targets") or [] if str(t.get("expr") or "").strip()]
        if not targets:
            report.add("panel-no-targets-rule", where, "no target with a query")
        for t in p.get("targets") or []:
            tw = f"{where} target {t.get('refId')}"
            if ds_uid(t.get("datasource")) not in DATASOURCE_REFS:
                report.add("panel-datasource-rule", tw, f"datasource must be $datasource, is {t.get('datasource')!r}")
            expr = t.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                continue
            check_selectors(tw, expr, report)
            for rng in range_args(expr):
                if rng.strip() != "$__rate_interval":
                    report.add("target-rate-interval-rule", tw, f"rate()/irate() must use [$__rate_interval], "
                               f"uses [{rng}]: {expr}")


def check_selectors(where, expr, report, need_instance=True):
    try:
        sels = selectors(expr)
    except ValueError as e:
        report.add("target-job-rule", where, f"cannot scan the query ({e}): {expr}")
        return
    for metric, matchers in sels:
        shown = metric or "{...}"
        if not matcher_is_var(matchers, "job"):
            report.add("target-job-rule", where, f'selector {shown} lacks job=~"$job": {expr}')
        if need_instance and not matcher_is_var(matchers, "instance"):
            report.add("target-instance-rule", where, f'selector {shown} lacks instance=~"$instance": {expr}')


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    if argv[:1] == ["--expect-every-rule"]:
        if len(argv) != 2:
            print("usage: lint_dashboards.py --expect-every-rule FILE.json", file=sys.stderr)
            return 2
        report = Report()
        lint(argv[1], load(argv[1]), report)
        fired = {rule for rule, _ in report.problems}
        silent = [r for r in RULES if r not in fired]
        if silent:
            print(f"lint_dashboards: {argv[1]} breaks every rule, yet these rules found nothing: "
                  f"{', '.join(silent)}", file=sys.stderr)
            return 1
        print(f"lint_dashboards: all {len(RULES)} rules reject {os.path.basename(argv[1])} "
              f"({len(report.problems)} problems)")
        return 0
    if any(a.startswith("-") for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    files = argv or sorted(glob.glob(os.path.join(GRAFANA_DIR, "*.json")))
    if not files:
        print(f"lint_dashboards: no dashboard JSON in {GRAFANA_DIR}", file=sys.stderr)
        return 1
    report = Report()
    for path in files:
        try:
            lint(path, load(path), report)
        except (OSError, ValueError) as e:
            print(f"lint_dashboards: cannot read {path}: {e}", file=sys.stderr)
            return 1
    for _, text in report.problems:
        print(f"lint_dashboards: {text}", file=sys.stderr)
    if report.problems:
        print(f"lint_dashboards: {len(report.problems)} problem(s); fix the generator "
              f"(dashboards/grafana/generate_overview.py) and run dashboards/mixin.py", file=sys.stderr)
        return 1
    print(f"lint_dashboards: {len(files)} dashboard(s) pass the {len(RULES)} dashboard-linter rules")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
