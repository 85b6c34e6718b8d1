#!/usr/bin/env python3
"""kubernetes_test.py ROOT EXPORTER

deploy/kubernetes/: every YAML file parses; the kustomization lists files
that exist; the Deployment runs non-root with a read-only root filesystem, a
volume for the artifacts and its secrets from a Secret; the Service and
ServiceMonitor agree on the port; the PrometheusRule's groups are identical
to dashboards/prometheus/backupdrill.rules.yml and the committed file is
what generate-prometheusrule.py writes; the ConfigMap's backupdrill.toml
passes the exporter's --check-config.
"""
import os
import pathlib
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(sys.argv[1])
EXPORTER = sys.argv[2]
K8S = ROOT / "deploy" / "kubernetes"
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


docs = {}
for f in sorted(K8S.glob("*.yaml")):
    try:
        loaded = [d for d in yaml.safe_load_all(f.read_text()) if d is not None]
    except yaml.YAMLError as e:
        errors.append(f"{f.name}: does not parse: {e}")
        continue
    for d in loaded:
        check(isinstance(d, dict) and "kind" in d and "apiVersion" in d, f"{f.name}: a document without kind/apiVersion")
        docs.setdefault(d.get("kind"), []).append((f.name, d))

kust = docs.get("Kustomization", [(None, {})])[0][1]
for r in kust.get("resources", []):
    check((K8S / r).is_file(), f"kustomization.yaml lists {r}, which does not exist")

by_kind = {k: v[0][1] for k, v in docs.items()}
for kind in ("Deployment", "Service", "ServiceMonitor", "PrometheusRule", "ConfigMap", "Secret",
             "PersistentVolumeClaim"):
    check(kind in by_kind, f"no {kind} in deploy/kubernetes")

dep = by_kind.get("Deployment", {})
pod = dep.get("spec", {}).get("template", {}).get("spec", {})
psc = pod.get("securityContext", {})
check(psc.get("runAsNonRoot") is True, "Deployment: pod securityContext.runAsNonRoot is not true")
check(int(psc.get("runAsUser", 0)) != 0, "Deployment: runAsUser is root")
(container,) = pod.get("containers", [{}])
csc = container.get("securityContext", {})
check(csc.get("readOnlyRootFilesystem") is True, "Deployment: readOnlyRootFilesystem is not true")
check(csc.get("allowPrivilegeEscalation") is False, "Deployment: allowPrivilegeEscalation is not false")
check("ALL" in csc.get("capabilities", {}).get("drop", []), "Deployment: capabilities are not dropped")
mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
volumes = {v["name"]: v for v in pod.get("volumes", [])}
art = mounts.get("/var/lib/backupdrill")
check(art is not None and "persistentVolumeClaim" in volumes.get(art, {}),
      "Deployment: /var/lib/backupdrill is not a persistent volume")
check("/tmp" in mounts, "Deployment: no writable /tmp (the read-only root needs one for PGPASSFILE)")
secret_name = by_kind.get("Secret", {}).get("metadata", {}).get("name")
refs = [e.get("secretRef", {}).get("name") for e in container.get("envFrom", [])]
check(secret_name in refs, f"Deployment: secrets do not come from the Secret {secret_name}")
check(all("value" not in e or "URL" not in e["name"] for e in container.get("env", [])),
      "Deployment: a URL is written inline instead of coming from the Secret")
port = container.get("ports", [{}])[0].get("name")
svc = by_kind.get("Service", {})
check(svc.get("metadata", {}).get("name") == "backupdrill",
      "Service: must be named backupdrill (the rules select job=\"backupdrill\")")
check(any(p.get("targetPort") == port for p in svc.get("spec", {}).get("ports", [])), "Service: targetPort does not name the container port")
sm = by_kind.get("ServiceMonitor", {})
svc_port_names = {p.get("name") for p in svc.get("spec", {}).get("ports", [])}
check(all(e.get("port") in svc_port_names for e in sm.get("spec", {}).get("endpoints", [])),
      "ServiceMonitor: endpoint port is not a Service port")
check(sm.get("spec", {}).get("selector", {}).get("matchLabels", {}).items() <= svc.get("metadata", {}).get("labels", {}).items(),
      "ServiceMonitor: selector does not match the Service's labels")

rules = yaml.safe_load((ROOT / "dashboards" / "prometheus" / "backupdrill.rules.yml").read_text())
pr = by_kind.get("PrometheusRule", {})
check(pr.get("spec", {}).get("groups") == rules["groups"],
      "PrometheusRule: spec.groups differ from dashboards/prometheus/backupdrill.rules.yml "
      "(run deploy/kubernetes/generate-prometheusrule.py)")
gen = subprocess.run([sys.executable, str(K8S / "generate-prometheusrule.py"), "--check"],
                     capture_output=True, text=True)
check(gen.returncode == 0, "generate-prometheusrule.py --check: " + gen.stderr.strip())

toml_text = by_kind.get("ConfigMap", {}).get("data", {}).get("backupdrill.toml", "")
with tempfile.TemporaryDirectory() as tmp:
    cfg = pathlib.Path(tmp) / "backupdrill.toml"
    cfg.write_text(toml_text)
    env = dict(os.environ, SOURCE_DB_URL="postgresql://u@db.invalid/app",
               TARGET_DB_URL="postgresql://u@staging.invalid/drill_target")
    env.pop("BACKUPDRILL_PLUGIN_DIR", None)
    r = subprocess.run([EXPORTER, f"--config.file={cfg}", "--check-config"], capture_output=True,
                       text=True, env=env)
    check(r.returncode == 0, f"ConfigMap backupdrill.toml: --check-config exit {r.returncode}: {r.stdout}{r.stderr}")

for e in errors:
    print("FAIL:", e, file=sys.stderr)
if not errors:
    print(f"deploy/kubernetes: {sum(len(v) for v in docs.values())} documents parse; Deployment "
          "hardened; PrometheusRule groups identical to the bundled rules; ConfigMap config valid")
sys.exit(1 if errors else 0)
