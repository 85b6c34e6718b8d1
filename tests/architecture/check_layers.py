#!/usr/bin/env python3
"""Fails when a folder of exporter/ includes a folder above it.

The order is the one ARCHITECTURE.md states (its "Layers" list, top to
bottom): a folder may include its own headers and those of folders listed
below it, never one listed above it, and every folder of exporter/ must be
listed. Usage: check_layers.py <repository root>
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
doc = (root / "ARCHITECTURE.md").read_text()
section = doc.split("## Layers", 1)[1].split("\n## ", 1)[0]
order = re.findall(r"^- `([a-z_]+)/`", section, flags=re.M)
if not order:
    sys.exit("ARCHITECTURE.md: no '## Layers' list of `folder/` lines found")
rank = {folder: i for i, folder in enumerate(order)}  # 0 = top

exporter = root / "exporter"
folders = sorted(p.name for p in exporter.iterdir() if p.is_dir())
problems = [f"exporter/{f}/ is not in ARCHITECTURE.md's layer list" for f in folders if f not in rank]
problems += [f"ARCHITECTURE.md lists {f}/, which exporter/ does not have" for f in order if f not in folders]

include = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.M)
for folder in folders:
    if folder not in rank:
        continue
    for source in sorted((exporter / folder).glob("*.[ch]*")):
        for lineno, line in enumerate(source.read_text(errors="replace").splitlines(), 1):
            m = include.match(line)
            if not m or m.group(1) == folder or m.group(1) not in rank:
                continue
            if rank[m.group(1)] < rank[folder]:
                problems.append(f"{source.relative_to(root)}:{lineno}: {folder}/ includes "
                                f"{m.group(1)}/, a layer above it ({line.strip()})")

for p in problems:
    print(p)
if problems:
    sys.exit(f"{len(problems)} layering problem(s); see ARCHITECTURE.md for the order")
print(f"{len(order)} layers, no include points up")
