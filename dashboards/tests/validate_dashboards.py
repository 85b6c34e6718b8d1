#!/usr/bin/env python3
"""Validates the Grafana dashboards in dashboards/grafana/ and prints their queries.

    validate_dashboards.py [FILE.json ...]
        Validate (default: every dashboards/grafana/*.json). Exit 0 if all are
        valid, 1 with one line per problem on stderr otherwise, 2 on usage errors.

    validate_dashboards.py --promtool PATH [FILE.json ...]
        Also check the PromQL syntax of every query (panels and template
        variables, with variables substituted) with `promtool check rules`.

    validate_dashboards.py --print-queries [--var NAME=VALUE ...] [--range 1h]
                           [--interval 1m] [--rate-interval 1m] [FILE.json ...]
        Print every PromQL query, template variables substituted, one JSON
        object per line:
          {"dashboard": uid, "file": name, "kind": "panel"|"variable",
           "variable": name|null, "panel_id": int|null, "panel_title": str|null,
           "ref_id": str|null, "instant": bool, "range": bool, "expr": str}
        Dashboard variables become the regex ".+" unless given with --var
        (repeat --var for several values: they become "(a|b)", regex-escaped);
        $__rate_interval and $__interval become --rate-interval / --interval
        (1m), $__range --range (1h), and $__range_s, $__range_ms, $__interval_ms
        follow. A variable query label_values(SELECTOR, LABEL) is printed as
        `group by (LABEL) (SELECTOR)`. Validation runs first; invalid
        dashboards print nothing and exit 1.

What a dashboard must have: uid, title, tags, schemaVersion >= 38 (Grafana
10); template variables datasource (type datasource, prometheus) and job,
instance, drill (type query with label_values, multi, include All); a row
repeated by drill; on every panel and every target the datasource
${datasource}; on every non-row panel a unit (fieldConfig.defaults.unit), a
description and at least one target with an expr; unique panel ids; and in
every expr, each selector of an exporter metric carries job=~"$job",
instance=~"$instance" and, for per-drill metrics, drill=~"$drill".

Python 3 standard library only.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GRAFANA_DIR = os.path.normpath(os.path.join(HERE, "..", "grafana"))

MIN_SCHEMA_VERSION = 38  # Grafana 10.0
DATASOURCE_REFS = {"${datasource}", "$datasource"}
REQUIRED_QUERY_VARS = ("job", "instance", "drill")

# Exporter metrics without a drill label: need job and instance only.
EXPORTER_LEVEL = {"up", "backupdrill_exporter_build_info", "backupdrill_plugin_info",
                  "backupdrill_exporter_start_time_seconds"}
# Prometheus' own alert series: only job is guaranteed (absent() alerts have no instance).
JOB_ONLY = {"ALERTS", "ALERTS_FOR_STATE"}

AGGREGATORS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
               "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "atan2", "inf", "nan", "start", "end"}
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}

MATCHER_RE = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*'
                        r'("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`)\s*(?:,|$)')
VAR_RE = re.compile(r'\$\{(\w+)(?::[\w]+)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)')
LABEL_VALUES_RE = re.compile(r'^\s*label_values\s*\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$', re.S)


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, msg):
        self.items.append(f"{where}: {msg}")


# ----------------------------------------------------------------- PromQL scan
def _skip_string(s, i):
    q = s[i]
    i += 1
    while i < len(s):
        if s[i] == "\\" and q != "`":
            i += 2
            continue
        if s[i] == q:
            return i + 1
        i += 1
    raise ValueError("unterminated string")


def _matching(s, i, open_c, close_c):
    """Index just past the bracket closing the one at s[i]."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c in "\"'`":
            i = _skip_string(s, i)
            continue
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError(f"unbalanced {open_c}{close_c}")


def _next_nonspace(s, i):
    while i < len(s) and s[i].isspace():
        i += 1
    return i


def selectors(expr):
    """[(metric or None, {label: (op, value)})] for every vector selector in expr.

    A small scanner, not a parser: enough to find selectors in the queries we
    write. Raises ValueError on unbalanced brackets or strings."""
    out = []
    i, n = 0, len(expr)
    # bracket balance first, for a clear message
    stack = []
    j = 0
    while j < n:
        c = expr[j]
        if c in "\"'`":
            j = _skip_string(expr, j)
            continue
        if c in "([{":
            stack.append(c)
        elif c in ")]}":
            if not stack or "([{"[")]}".index(c)] != stack.pop():
                raise ValueError(f"unbalanced '{c}' at offset {j}")
        j += 1
    if stack:
        raise ValueError(f"unclosed '{stack[-1]}'")

    while i < n:
        c = expr[i]
        if c in "\"'`":
            i = _skip_string(expr, i)
        elif c == "[":
            i = _matching(expr, i, "[", "]")
        elif c == "{":
            end = _matching(expr, i, "{", "}")
            out.append((None, parse_matchers(expr[i + 1:end - 1])))
            i = end
        elif c.isdigit() or (c == "." and i + 1 < n and expr[i + 1].isdigit()):
            while i < n and (expr[i].isalnum() or expr[i] in "._"):
                i += 1
        elif c.isalpha() or c in "_:":
            j = i
            while j < n and (expr[j].isalnum() or expr[j] in "_:"):
                j += 1
            word = expr[i:j]
            k = _next_nonspace(expr, j)
            nxt = expr[k] if k < n else ""
            low = word.lower()
            if low in LABEL_LIST_KEYWORDS:
                i = _matching(expr, k, "(", ")") if nxt == "(" else j
            elif low in KEYWORDS or word in AGGREGATORS or nxt == "(":
                i = j
            elif nxt == "{":
                end = _matching(expr, k, "{", "}")
                out.append((word, parse_matchers(expr[k + 1:end - 1])))
                i = end
            else:
                out.append((word, {}))
                i = j
        else:
            i += 1
    return out


def parse_matchers(text):
    m = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        mm = MATCHER_RE.match(text, pos)
        if not mm:
            raise ValueError(f"cannot parse label matchers {{{text}}}")
        m[mm.group(1)] = (mm.group(2), mm.group(3)[1:-1])
        pos = mm.end()
    return m


def required_labels(metric):
    if metric in JOB_ONLY or metric is None:
        return ("job",)
    if metric in EXPORTER_LEVEL:
        return ("job", "instance")
    if metric.startswith("backupdrill_") or metric.startswith("backupdrill:"):
        return ("job", "instance", "drill")
    return ("job",)


def check_expr(where, expr, problems, required=None):
    try:
        sels = selectors(expr)
    except ValueError as e:
        problems.add(where, f"malformed PromQL ({e}): {expr}")
        return
    if not sels:
        problems.add(where, f"no metric selector in expr: {expr}")
    for metric, matchers in sels:
        for label in (required if required is not None else required_labels(metric)):
            got = matchers.get(label)
            if got is None or got[0] != "=~" or got[1] not in (f"${label}", f"${{{label}}}"):
                problems.add(where, f'selector {metric or "{...}"} lacks {label}=~"${label}": {expr}')


# ----------------------------------------------------------------- dashboards
def ds_uid(ds):
    if isinstance(ds, dict):
        return ds.get("uid")
    return ds


def walk_panels(panels):
    for p in panels or []:
        yield p
        if p.get("type") == "row":
            yield from walk_panels(p.get("panels"))


def validate(path, dash, problems):
    name = os.path.basename(path)
    if not isinstance(dash, dict):
        problems.add(name, "top level is not an object")
        return
    uid = dash.get("uid")
    if not isinstance(uid, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid):
        problems.add(name, f"uid must be a fixed string of 1-40 [A-Za-z0-9_-], got {uid!r}")
    if not isinstance(dash.get("title"), str) or not dash["title"].strip():
        problems.add(name, "missing title")
    tags = dash.get("tags")
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t for t in tags):
        problems.add(name, "tags must be a non-empty list of strings")
    sv = dash.get("schemaVersion")
    if not isinstance(sv, int) or sv < MIN_SCHEMA_VERSION:
        problems.add(name, f"schemaVersion must be an integer >= {MIN_SCHEMA_VERSION} (Grafana 10), got {sv!r}")

    variables = {}
    for v in (dash.get("templating") or {}).get("list") or []:
        variables[v.get("name")] = v
    ds = variables.get("datasource")
    if ds is None:
        problems.add(name, "templating: no 'datasource' variable")
    elif ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.add(name, "templating: 'datasource' must have type 'datasource' and query 'prometheus'")
    for var in REQUIRED_QUERY_VARS:
        v = variables.get(var)
        where = f"{name}: templating.{var}"
        if v is None:
            problems.add(name, f"templating: no '{var}' variable")
            continue
        if v.get("type") != "query":
            problems.add(where, f"type must be 'query', got {v.get('type')!r}")
        if ds_uid(v.get("datasource")) not in DATASOURCE_REFS:
            problems.add(where, "datasource must be ${datasource}")
        q = var_query(v)
        if not q or "label_values(" not in q:
            problems.add(where, f"query must use label_values(...), got {q!r}")
        else:
            m = LABEL_VALUES_RE.match(q)
            if not m:
                problems.add(where, f"cannot parse {q!r}")
            else:
                need = REQUIRED_QUERY_VARS[:REQUIRED_QUERY_VARS.index(var)]
                if need:
                    check_expr(where, m.group(1), problems, required=need)
        if not v.get("multi") or not v.get("includeAll"):
            problems.add(where, "must be multi-select with All (multi and includeAll true)")

    panels = list(walk_panels(dash.get("panels")))
    if not panels:
        problems.add(name, "no panels")
    if not any(p.get("type") == "row" and p.get("repeat") == "drill" for p in panels):
        problems.add(name, "no row repeated by the drill variable (repeat: drill)")
    seen = {}
    for p in panels:
        pid = p.get("id")
        where = f"{name}: panel {pid} {p.get('title')!r}"
        if not isinstance(pid, int):
            problems.add(where, "id must be an integer")
        elif pid in seen:
            problems.add(where, f"duplicate panel id (also {seen[pid]!r})")
        else:
            seen[pid] = p.get("title")
        if ds_uid(p.get("datasource")) not in DATASOURCE_REFS:
            problems.add(where, f"datasource must be ${{datasource}}, got {p.get('datasource')!r}")
        gp = p.get("gridPos") or {}
        if not all(isinstance(gp.get(k), int) for k in ("x", "y", "w", "h")) or gp["x"] + gp["w"] > 24:
            problems.add(where, f"bad gridPos {gp!r}")
        if p.get("type") == "row":
            continue
        if not isinstance(p.get("description"), str) or not p["description"].strip():
            problems.add(where, "missing description")
        unit = ((p.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
        if not isinstance(unit, str) or not unit:
            problems.add(where, "missing unit (fieldConfig.defaults.unit)")
        targets = p.get("targets") or []
        if not targets:
            problems.add(where, "no targets")
        refs = set()
        for t in targets:
            tw = f"{where} target {t.get('refId')}"
            if t.get("refId") in refs:
                problems.add(tw, "duplicate refId")
            refs.add(t.get("refId"))
            if ds_uid(t.get("datasource")) not in DATASOURCE_REFS:
                problems.add(tw, f"datasource must be ${{datasource}}, got {t.get('datasource')!r}")
            expr = t.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                problems.add(tw, "missing expr")
                continue
            check_expr(tw, expr, problems)
            unknown = {a or b or c for a, b, c in VAR_RE.findall(expr)} - set(variables) - BUILTIN_NAMES
            if unknown:
                problems.add(tw, f"unknown variables {sorted(unknown)}: {expr}")


def var_query(v):
    q = v.get("query")
    if isinstance(q, dict):
        q = q.get("query")
    return q if isinstance(q, str) else None


# ----------------------------------------------------------------- queries
BUILTIN_NAMES = {"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s",
                 "__range_ms", "__dashboard", "__name"}


def duration_seconds(d):
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d|w|y)", d)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {d!r} (e.g. 1m, 1h)")
    mult = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}[m.group(2)]
    return d, int(m.group(1)) * mult


def regex_escape(value):
    # Escape regex metacharacters for a PromQL double-quoted string: "\\." is the regex \.
    return "".join("\\\\" + c if c in r".+*?^$()[]{}|\\" else c for c in value)


def substitutions(dash, given, args):
    subs = {}
    for v in (dash.get("templating") or {}).get("list") or []:
        subs[v.get("name")] = ".+"
    for k, values in given.items():
        subs[k] = regex_escape(values[0]) if len(values) == 1 else \
            "(" + "|".join(regex_escape(x) for x in values) + ")"
    rng, rng_s = args.range
    itv, itv_s = args.interval
    subs.update({
        "__rate_interval": args.rate_interval[0],
        "__interval": itv,
        "__interval_ms": str(int(itv_s * 1000)),
        "__range": rng,
        "__range_s": str(int(rng_s)),
        "__range_ms": str(int(rng_s * 1000)),
    })
    return subs


def substitute(expr, subs):
    def rep(m):
        key = m.group(1) or m.group(2) or m.group(3)
        if key not in subs:
            raise KeyError(key)
        return subs[key]
    return VAR_RE.sub(rep, expr)


def queries(path, dash, subs):
    uid = dash.get("uid")
    fname = os.path.basename(path)
    for v in (dash.get("templating") or {}).get("list") or []:
        if v.get("type") != "query":
            continue
        m = LABEL_VALUES_RE.match(var_query(v) or "")
        if not m:
            continue
        expr = f"group by ({m.group(2)}) ({m.group(1).strip()})"
        yield {"dashboard": uid, "file": fname, "kind": "variable", "variable": v.get("name"),
               "panel_id": None, "panel_title": None, "ref_id": None, "instant": True, "range": False,
               "expr": substitute(expr, subs)}
    for p in walk_panels(dash.get("panels")):
        for t in p.get("targets") or []:
            if not t.get("expr"):
                continue
            instant = bool(t.get("instant")) and not t.get("range", False)
            yield {"dashboard": uid, "file": fname, "kind": "panel", "variable": None,
                   "panel_id": p.get("id"),
                   "panel_title": p.get("title"), "ref_id": t.get("refId"),
                   "instant": instant, "range": not instant,
                   "expr": substitute(t["expr"], subs)}


def promtool_check(promtool, all_queries):
    rules = [{"record": f"dashboard_query:{re.sub(r'[^A-Za-z0-9_]', '_', q['dashboard'] or 'x')}"
                        f":{q['kind']}_{q['panel_id'] or q['variable']}_{q['ref_id'] or 'var'}_{i}",
              "expr": q["expr"]} for i, q in enumerate(all_queries)]
    with tempfile.NamedTemporaryFile("w", suffix=".rules.json", delete=False) as f:
        json.dump({"groups": [{"name": "dashboard_queries", "rules": rules}]}, f, indent=1)
        tmp = f.name
    try:
        r = subprocess.run([promtool, "check", "rules", tmp], capture_output=True, text=True)
    finally:
        os.unlink(tmp)
    if r.returncode != 0:
        return [f"promtool check rules rejected a dashboard query:\n{r.stdout}{r.stderr}"]
    return []


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", help="dashboard JSON files (default: dashboards/grafana/*.json)")
    ap.add_argument("--print-queries", action="store_true", help="print every query as one JSON line")
    ap.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                    help="value of a dashboard variable for --print-queries (repeatable)")
    ap.add_argument("--range", type=duration_seconds, default=("1h", 3600), help="$__range (default 1h)")
    ap.add_argument("--interval", type=duration_seconds, default=("1m", 60), help="$__interval (default 1m)")
    ap.add_argument("--rate-interval", type=duration_seconds, default=("1m", 60),
                    help="$__rate_interval (default 1m)")
    ap.add_argument("--promtool", metavar="PATH", help="check every query's syntax with promtool")
    args = ap.parse_args(argv)

    given = {}
    for item in args.var:
        if "=" not in item:
            ap.error(f"--var wants NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        given.setdefault(k, []).append(v)

    files = args.files or sorted(glob.glob(os.path.join(GRAFANA_DIR, "*.json")))
    if not files:
        print(f"validate_dashboards: no dashboard JSON found in {GRAFANA_DIR}", file=sys.stderr)
        return 1

    problems = Problems()
    loaded = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                dash = json.load(f)
        except (OSError, ValueError) as e:
            problems.add(os.path.basename(path), f"cannot load: {e}")
            continue
        validate(path, dash, problems)
        loaded.append((path, dash))

    all_queries = []
    for path, dash in loaded:
        subs = substitutions(dash, given, args)
        try:
            all_queries.extend(queries(path, dash, subs))
        except KeyError as e:
            problems.add(os.path.basename(path), f"unknown variable ${e.args[0]} in a query")
    if args.promtool and not problems.items:
        for msg in promtool_check(args.promtool, all_queries):
            problems.add("promtool", msg)
    for q in all_queries:
        if "$" in q["expr"]:
            problems.add(f"{q['file']}: panel {q['panel_id']} {q['ref_id']}",
                         f"unsubstituted variable left: {q['expr']}")

    if problems.items:
        for item in problems.items:
            print(f"validate_dashboards: {item}", file=sys.stderr)
        print(f"validate_dashboards: {len(problems.items)} problem(s) in {len(files)} file(s)", file=sys.stderr)
        return 1
    if args.print_queries:
        for q in all_queries:
            print(json.dumps(q, ensure_ascii=False))
    else:
        n_panels = sum(1 for _, d in loaded for p in walk_panels(d.get("panels")) if p.get("type") != "row")
        print(f"validate_dashboards: {len(loaded)} dashboard(s), {n_panels} panels, "
              f"{len(all_queries)} queries: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
