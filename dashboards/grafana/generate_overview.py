#!/usr/bin/env python3
"""Builds backupdrill-overview.json, the Grafana dashboard for backupdrill.

A module of the mixin: dashboards/mixin.py holds the parameters (thresholds,
runbook URL base), calls render() and writes the file. The JSON is the
artifact users import; edit here, run dashboards/mixin.py, commit both.
Target: Grafana 10+, schemaVersion 39. Python 3 standard library only.
"""
import itertools
import json

SCHEMA_VERSION = 39
DS = {"type": "prometheus", "uid": "${datasource}"}
# Label matchers every query carries: the dashboard's variables.
INST = 'job=~"$job",instance=~"$instance"'
SEL = INST + ',drill=~"$drill"'
ON = "on (job, instance, drill)"
RAN = f"backupdrill_last_run_timestamp_seconds{{{SEL}}} > 0"

_ids = itertools.count(1)


def target(expr, ref="A", legend="", instant=False, fmt="time_series"):
    t = {
        "datasource": DS,
        "editorMode": "code",
        "expr": expr,
        "refId": ref,
        "legendFormat": legend or "__auto",
        "instant": instant,
        "range": not instant,
        "format": fmt,
    }
    return t


def thresholds(*steps):
    """steps: (color, value) with the first value None (the base)."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


def value_map(*entries):
    """entries: (value, text, color)."""
    return [{"type": "value", "options": {
        str(v): {"text": text, "color": color, "index": i} for i, (v, text, color) in enumerate(entries)}}]


def panel(kind, title, description, grid, targets, unit, *, defaults=None, options=None,
          overrides=None, transformations=None, interval=None):
    x, y, w, h = grid
    p = {
        "id": next(_ids),
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit, **(defaults or {})}, "overrides": overrides or []},
        "options": options or {},
    }
    if transformations:
        p["transformations"] = transformations
    if interval:
        p["interval"] = interval
    return p


def stat(title, description, grid, targets, unit, *, steps, mappings=None, no_value=None,
         color_mode="background", text_mode="auto", decimals=None, links=None):
    defaults = {"color": {"mode": "thresholds"}, "thresholds": thresholds(*steps),
                "mappings": mappings or []}
    if links:
        defaults["links"] = links
    if no_value is not None:
        defaults["noValue"] = no_value
    if decimals is not None:
        defaults["decimals"] = decimals
    options = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "orientation": "auto",
        "textMode": text_mode,
        "colorMode": color_mode,
        "graphMode": "none",
        "justifyMode": "auto",
        "wideLayout": True,
        "showPercentChange": False,
    }
    return panel("stat", title, description, grid, targets, unit, defaults=defaults, options=options)


def timeseries(title, description, grid, targets, unit, *, stacked=False, draw="line", overrides=None,
               min_zero=True):
    custom = {
        "drawStyle": draw,
        "lineInterpolation": "stepAfter",
        "lineWidth": 1,
        "fillOpacity": 30 if stacked else 10,
        "showPoints": "auto",
        "spanNulls": False,
        "stacking": {"mode": "normal" if stacked else "none", "group": "A"},
        "axisPlacement": "auto",
        "gradientMode": "none",
    }
    defaults = {"custom": custom, "color": {"mode": "palette-classic"},
                "thresholds": thresholds(("green", None))}
    if min_zero:
        defaults["min"] = 0
    options = {
        "legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                   "calcs": ["lastNotNull", "max"]},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return panel("timeseries", title, description, grid, targets, unit, defaults=defaults,
                 options=options, overrides=overrides)


def dashed(ref):
    return {"matcher": {"id": "byFrameRefID", "options": ref}, "properties": [
        {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
        {"id": "custom.fillOpacity", "value": 0},
        {"id": "custom.stacking", "value": {"mode": "none", "group": "A"}},
    ]}


def row(title, description, y, repeat=None):
    r = {
        "id": next(_ids),
        "type": "row",
        "title": title,
        "description": description,
        "datasource": DS,
        "collapsed": False,
        "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
        "panels": [],
    }
    if repeat:
        r["repeat"] = repeat
    return r


def query_var(name, label, query, description):
    return {
        "name": name,
        "label": label,
        "description": description,
        "type": "query",
        "datasource": DS,
        "definition": query,
        "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "multi": True,
        "includeAll": True,
        "allValue": ".+",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "hide": 0,
    }


def runbook_link(base):
    """A panel data link to the runbook: with the default base, the runbook the
    exporter behind the series serves; else the given base."""
    url = base.replace("{{ $labels.instance }}", "${__field.labels.instance}")
    return [{"title": "Runbook: what each backupdrill alert means and what to do", "url": url,
             "targetBlank": True}]


def dashboard_links(base):
    """A link in the dashboard's header, only for a fixed runbook URL (the
    exporter's own /runbook differs per instance: a data link on the exporter panels)."""
    if "$labels" in base:
        return []
    return [{
        "title": "Runbook",
        "type": "link",
        "icon": "doc",
        "url": base,
        "targetBlank": True,
        "tooltip": "What each backupdrill alert means and what to do",
        "asDropdown": False, "includeVars": False, "keepTime": False, "tags": [],
    }]


def build(p):
    """p: the mixin's parameters (not_recent_grace_min/_ratio, runbook_url_base)."""
    global _ids
    _ids = itertools.count(1)
    panels = []

    # ---------------------------------------------------------------- overview
    panels.append(row("Overview", "The exporters and all selected drills at a glance.", 0))
    y = 1
    panels.append(stat(
        "Exporter up",
        "Whether Prometheus can scrape each selected backupdrill exporter (the up series). "
        f"DOWN for {p.down_for} raises BackupDrillExporterDown. Click a value for that exporter's runbook.",
        (0, y, 4, 4),
        [target(f"up{{{INST}}}", legend="{{instance}}", instant=True)],
        "none",
        steps=[("red", None), ("green", 1)],
        mappings=value_map((0, "DOWN", "red"), (1, "UP", "green")),
        no_value="no target", links=runbook_link(p.runbook_url_base)))
    panels.append(stat(
        "Drills whose last run failed",
        "Number of selected drills whose last finished run failed (drills that never ran are not "
        f"counted). Each raises BackupDrillFailed after {p.failed_for}.",
        (4, y, 5, 4),
        [target(f"count(backupdrill_last_run_success{{{SEL}}} == 0 and {ON} {RAN}) or vector(0)",
                legend="failed", instant=True)],
        "none",
        steps=[("green", None), ("red", 1)]))
    panels.append(stat(
        "Drills running",
        "Number of selected drills with a run in progress right now.",
        (9, y, 5, 4),
        [target(f"sum(backupdrill_running{{{SEL}}}) or vector(0)", legend="running", instant=True)],
        "none",
        steps=[("text", None), ("blue", 1)]))
    panels.append(stat(
        "Firing backupdrill alerts",
        "BackupDrill* alerts firing in Prometheus for the selected jobs and instances (needs the "
        "rules of dashboards/prometheus/backupdrill.rules.yml loaded in this Prometheus). "
        "BackupDrillExporterDown for a job without any target has no instance and is not counted "
        "here: 'Exporter up' shows 'no target' then.",
        (14, y, 5, 4),
        [target('count(ALERTS{alertname=~"BackupDrill.*",alertstate="firing",job=~"$job",instance=~"$instance"}) or vector(0)',
                legend="firing", instant=True)],
        "none",
        steps=[("green", None), ("red", 1)]))
    panels.append(stat(
        "Exporter version",
        "Version and revision of each selected exporter (backupdrill_exporter_build_info). "
        "Click a value for that exporter's runbook.",
        (19, y, 5, 4),
        [target(f"backupdrill_exporter_build_info{{{INST}}}", legend="{{version}} ({{revision}})",
                instant=True)],
        "none",
        steps=[("text", None)], color_mode="none", text_mode="name",
        links=runbook_link(p.runbook_url_base)))

    # --------------------------------------------------------- one row per drill
    y = 5
    panels.append(row("Drill: $drill", "Everything about one drill; the row repeats for each selected drill.",
                      y, repeat="drill"))
    y += 1
    panels.append(stat(
        "Last result",
        "Result of the drill's last finished run: PASSED, FAILED, or NEVER RAN (no run finished "
        "yet, and no summary reloaded from the artifact folder).",
        (0, y, 4, 4),
        [target(f"backupdrill_last_run_success{{{SEL}}} and {ON} {RAN}"
                f" or {ON} (backupdrill_last_run_timestamp_seconds{{{SEL}}} == 0) - 1",
                legend="{{instance}}", instant=True)],
        "none",
        steps=[("blue", None), ("red", 0), ("green", 1)],
        mappings=value_map((-1, "NEVER RAN", "blue"), (0, "FAILED", "red"), (1, "PASSED", "green"))))
    panels.append(stat(
        "Running",
        "RUNNING while a run of this drill is in progress.",
        (4, y, 3, 4),
        [target(f"backupdrill_running{{{SEL}}}", legend="{{instance}}", instant=True)],
        "none",
        steps=[("text", None), ("blue", 1)],
        mappings=value_map((0, "idle", "text"), (1, "RUNNING", "blue"))))
    panels.append(stat(
        "Time since last success",
        "Time since the end of the drill's last successful run. 'never' until a run passes.",
        (7, y, 4, 4),
        [target(f"time() - (backupdrill_last_success_timestamp_seconds{{{SEL}}} > 0)",
                legend="{{instance}}", instant=True)],
        "s",
        steps=[("text", None)], color_mode="value", no_value="never"))
    age = (f"(time() - (backupdrill_last_success_timestamp_seconds{{{SEL}}} > 0)"
           f" or {ON} time() - ((backupdrill_last_success_timestamp_seconds{{{SEL}}} == 0)"
           f" + on (job, instance) group_left backupdrill_exporter_start_time_seconds{{{INST}}}))")
    limit = (f"((backupdrill_schedule_interval_seconds{{{SEL}}} > 0)"
             f" + clamp_min(backupdrill_schedule_interval_seconds{{{SEL}}} * {p.not_recent_grace_ratio:g},"
             f" {int(p.not_recent_grace_min)}))")
    panels.append(stat(
        "Time without success vs alert threshold",
        "Time without a successful run (since the exporter started if the drill never passed) as a "
        "share of the BackupDrillNotRecent threshold: schedule interval + "
        f"max({int(p.not_recent_grace_min)}s, {p.not_recent_grace_ratio * 100:g}% of the interval). "
        "At 100% the alert goes pending. Empty for drills without a schedule.",
        (11, y, 4, 4),
        [target(f"{age} / {ON} {limit}", legend="{{instance}}", instant=True)],
        "percentunit",
        steps=[("green", None), ("orange", 0.75), ("red", 1)], no_value="no schedule"))
    panels.append(stat(
        "RTO vs target",
        "Last run's RTO (restore start to checks passed) as a share of the drill's RTO target. "
        "Red from 100%: BackupDrillRTOBreached. Absolute values are in 'RTO and RPO against targets'.",
        (15, y, 3, 4),
        [target(f"backupdrill_rto_seconds{{{SEL}}} / {ON} (backupdrill_rto_target_seconds{{{SEL}}} > 0)"
                f" and {ON} {RAN}", legend="{{instance}}", instant=True)],
        "percentunit",
        steps=[("green", None), ("orange", 0.8), ("red", 1)], no_value="no run"))
    panels.append(stat(
        "RPO vs target",
        "Last run's RPO (run end minus backup snapshot time) as a share of the drill's RPO target. "
        "Red from 100%: BackupDrillRPOBreached.",
        (18, y, 3, 4),
        [target(f"backupdrill_rpo_seconds{{{SEL}}} / {ON} (backupdrill_rpo_target_seconds{{{SEL}}} > 0)"
                f" and {ON} {RAN}", legend="{{instance}}", instant=True)],
        "percentunit",
        steps=[("green", None), ("orange", 0.8), ("red", 1)], no_value="no run"))
    panels.append(stat(
        "Restore errors",
        "Errors pg_restore reported in the last run (details in restore_<ts>.log in the artifact folder).",
        (21, y, 3, 4),
        [target(f"backupdrill_restore_errors{{{SEL}}}", legend="{{instance}}", instant=True)],
        "none",
        steps=[("green", None), ("red", 1)]))

    y += 4
    panels.append(timeseries(
        "Phase durations",
        "Duration of each phase of the last run (backup, verify, restore, recover, checks) stacked; the dashed "
        "line is the whole run (total). The values change when a run finishes.",
        (0, y, 12, 8),
        [target(f'backupdrill_phase_duration_seconds{{{SEL},phase!="total"}}', "A", "{{phase}}"),
         target(f'backupdrill_phase_duration_seconds{{{SEL},phase="total"}}', "B", "total")],
        "s", stacked=True, overrides=[dashed("B")]))
    panels.append(timeseries(
        "RTO and RPO against targets",
        "Measured RTO and RPO of the last run (solid) against the drill's targets (dashed).",
        (12, y, 12, 8),
        [target(f"backupdrill_rto_seconds{{{SEL}}}", "A", "RTO"),
         target(f"backupdrill_rto_target_seconds{{{SEL}}}", "B", "RTO target"),
         target(f"backupdrill_rpo_seconds{{{SEL}}}", "C", "RPO"),
         target(f"backupdrill_rpo_target_seconds{{{SEL}}}", "D", "RPO target")],
        "s", overrides=[dashed("B"), dashed("D")]))

    y += 8
    panels.append(timeseries(
        "Backup size",
        "Size of the last backup (the dump file, or the whole directory for parallel dumps).",
        (0, y, 8, 8),
        [target(f"backupdrill_backup_size_bytes{{{SEL}}} > 0", "A", "backup size")],
        "bytes"))
    panels.append(panel(
        "bargauge", "Failures by phase",
        "Failed runs in the selected time range, by the phase that failed "
        "(increase of backupdrill_failures_total).",
        (8, y, 8, 8),
        [target(f"sum by (phase) (increase(backupdrill_failures_total{{{SEL}}}[$__range]))",
                legend="{{phase}}", instant=True)],
        "none",
        defaults={"decimals": 0, "min": 0, "color": {"mode": "thresholds"},
                  "thresholds": thresholds(("green", None), ("red", 0.5))},
        options={"orientation": "horizontal", "displayMode": "gradient", "showUnfilled": True,
                 "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                 "valueMode": "color", "namePlacement": "auto", "sizing": "auto"}))
    panels.append(panel(
        "state-timeline", "Check results",
        "Result of each validation check over time (PASS/FAIL of the last run at each moment). "
        "Empty before the drill's first run.",
        (16, y, 8, 8),
        [target(f"backupdrill_check_success{{{SEL}}} and {ON} {RAN}", "A", "{{check}}")],
        "none",
        defaults={"color": {"mode": "thresholds"},
                  "thresholds": thresholds(("red", None), ("green", 1)),
                  "mappings": value_map((0, "FAIL", "red"), (1, "PASS", "green")),
                  "custom": {"fillOpacity": 80, "lineWidth": 0}},
        options={"mergeValues": True, "showValue": "auto", "alignValue": "left", "rowHeight": 0.9,
                 "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                 "tooltip": {"mode": "single", "sort": "none"}}))

    y += 8
    src = f'sum without (side) (backupdrill_check_rows{{{SEL},side="source"}})'
    dst = f'sum without (side) (backupdrill_check_rows{{{SEL},side="target"}})'
    panels.append(panel(
        "table", "Table row parity: source vs target",
        "Row counts of each table checked by table_counts checks, in the source (at the backup's "
        "snapshot) and in the restored target. Any difference is red.",
        (0, y, 24, 8),
        [target(src, "A", instant=True, fmt="table"),
         target(dst, "B", instant=True, fmt="table"),
         target(f"abs({src} - {dst})", "C", instant=True, fmt="table")],
        "locale",
        defaults={"custom": {"align": "auto", "cellOptions": {"type": "auto"}},
                  "color": {"mode": "thresholds"}, "thresholds": thresholds(("green", None))},
        overrides=[{"matcher": {"id": "byName", "options": "Difference"}, "properties": [
            {"id": "thresholds", "value": thresholds(("green", None), ("red", 1))},
            {"id": "custom.cellOptions", "value": {"type": "color-background"}}]}],
        options={"showHeader": True, "cellHeight": "sm",
                 "sortBy": [{"displayName": "Difference", "desc": True}],
                 "footer": {"show": False, "reducer": ["sum"], "fields": ""}},
        transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {
                "excludeByName": {"Time": True, "job": True, "instance": True, "drill": True},
                "indexByName": {"check": 0, "table": 1, "Value #A": 2, "Value #B": 3, "Value #C": 4},
                "renameByName": {"check": "Check", "table": "Table", "Value #A": "Source rows",
                                 "Value #B": "Target rows", "Value #C": "Difference"}}}]))

    return {
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.0.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
            {"type": "panel", "id": "stat", "name": "Stat", "version": ""},
            {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
            {"type": "panel", "id": "bargauge", "name": "Bar gauge", "version": ""},
            {"type": "panel", "id": "state-timeline", "name": "State timeline", "version": ""},
            {"type": "panel", "id": "table", "name": "Table", "version": ""},
        ],
        "uid": "backupdrill-overview",
        "title": "Backupdrill / Overview",
        "description": "PostgreSQL backup/restore drills run by backupdrill_exporter: results, RTO/RPO "
                       "against targets, phase durations, checks and table parity.",
        "tags": ["backupdrill", "postgresql", "backup"],
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": False,
        "graphTooltip": 1,
        "liveNow": False,
        "refresh": "1m",
        "time": {"from": "now-7d", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "fiscalYearStartMonth": 0,
        "weekStart": "",
        "links": dashboard_links(p.runbook_url_base),
        "annotations": {"list": [{
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard",
        }]},
        "templating": {"list": [
            {
                "name": "datasource",
                "label": "Data source",
                "description": "The Prometheus that scrapes backupdrill_exporter.",
                "type": "datasource",
                "query": "prometheus",
                "regex": "",
                "refresh": 1,
                "multi": False,
                "includeAll": False,
                "current": {},
                "options": [],
                "hide": 0,
            },
            query_var("job", "Job", "label_values(backupdrill_exporter_build_info, job)",
                      "Prometheus job(s) scraping the exporter (the rules default to job=\"backupdrill\")."),
            query_var("instance", "Instance",
                      'label_values(backupdrill_exporter_build_info{job=~"$job"}, instance)',
                      "Exporter instance(s)."),
            query_var("drill", "Drill",
                      'label_values(backupdrill_last_run_timestamp_seconds{job=~"$job",instance=~"$instance"}, drill)',
                      "Drill(s) to show; one row per drill."),
        ]},
        "panels": panels,
    }


def render(p):
    return json.dumps(build(p), indent=2, ensure_ascii=False) + "\n"
