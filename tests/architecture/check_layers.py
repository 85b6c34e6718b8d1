#!/usr/bin/env python3
"""Fails when a folder of exporter/ includes or links a folder above it.

The order is the one ARCHITECTURE.md states (its "Layers" list, top to
bottom). A folder may include its own headers and those of folders listed
below it, never one listed above it, and every folder of exporter/ must be
listed. The same holds for the libraries a layer links, as its CMake files
declare them: `backupdrill_layer(<folder> ... DEPENDS ...)` and
`target_link_libraries(backupdrill_<folder> ...)`, in exporter/CMakeLists.txt
and exporter/<folder>/CMakeLists.txt. exporter/CMakeLists.txt must add the
folders that have a CMakeLists.txt bottom to top, in the document's order.

Usage: check_layers.py <repository root>  (a fixture tree works as well)
"""
import collections
import pathlib
import re
import sys

LIBRARY_PREFIX = "backupdrill_"
LAYER_KEYWORDS = {"SOURCES", "DEPENDS"}  # backupdrill_layer()'s (exporter/CMakeLists.txt)

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
CMAKE_TOKEN = re.compile(
    r"""(?P<comment>\#[^\n]*)
      | (?P<quoted>"(?:\\.|[^"\\])*")
      | (?P<open>\()
      | (?P<close>\))
      | (?P<blank>\s+)
      | (?P<word>(?:\\.|[^\s()#"\\])+)
      | (?P<other>.)""",
    re.X | re.S,
)

# One command of a CMake file: its name (lower case) and its arguments as
# (text, line) pairs, quotes removed.
Call = collections.namedtuple("Call", "name args")


# --- ARCHITECTURE.md and the tree ------------------------------------------


def layer_order(root):
    """The folders of ARCHITECTURE.md's "## Layers" list, top first."""
    doc = (root / "ARCHITECTURE.md").read_text()
    if "## Layers" not in doc:
        return []
    section = doc.split("## Layers", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- `([a-z_]+)/`", section, flags=re.M)


def exporter_folders(root):
    """The folders of exporter/, sorted."""
    return sorted(p.name for p in (root / "exporter").iterdir() if p.is_dir())


def check_listing(order, folders):
    """Each folder of exporter/ is in the list, and each listed one exists."""
    problems = [f"exporter/{f}/ is not in ARCHITECTURE.md's layer list"
                for f in folders if f not in order]
    problems += [f"ARCHITECTURE.md lists {f}/, which exporter/ does not have"
                 for f in order if f not in folders]
    return problems


# --- includes ---------------------------------------------------------------


def check_includes(root, rank, folders):
    """No source of a folder includes a header of a folder above it."""
    problems = []
    for folder in (f for f in folders if f in rank):
        for source in sorted((root / "exporter" / folder).glob("*.[ch]*")):
            text = source.read_text(errors="replace")
            for lineno, line in enumerate(text.splitlines(), 1):
                m = INCLUDE.match(line)
                if m and m.group(1) in rank and rank[m.group(1)] < rank[folder]:
                    problems.append(f"{source.relative_to(root)}:{lineno}: {folder}/ includes "
                                    f"{m.group(1)}/, a layer above it ({line.strip()})")
    return problems


def narrow_interfaces(root):
    """ARCHITECTURE.md's "## Narrow interfaces" lines: (user, used, headers).

    A line reads "- `web/` uses `scheduler/` only through `scheduler/drills_view.h`"
    (several headers joined by "and").
    """
    doc = (root / "ARCHITECTURE.md").read_text()
    if "## Narrow interfaces" not in doc:
        return []
    section = doc.split("## Narrow interfaces", 1)[1].split("\n## ", 1)[0]
    rules = []
    for m in re.finditer(r"^- `([a-z_]+)/` uses `([a-z_]+)/` only through (.+)$", section, re.M):
        headers = set(re.findall(r"`([a-z_]+/[a-z_]+\.h)`", m.group(3)))
        rules.append((m.group(1), m.group(2), headers))
    return rules


def layer_links(root, folders):
    """{layer: [(file:line, linked layer)]} of every layer library a layer links."""
    links = collections.defaultdict(list)
    for path in cmake_files(root, folders):
        for layer, target, line in declared_links(cmake_calls(path.read_text())):
            if layer_of(target):
                links[layer].append((f"{path.relative_to(root)}:{line}", layer_of(target)))
    return links


def check_narrow_interfaces(root, rules, links):
    """A folder reaches a narrowed layer through the named headers only, and never links it."""
    problems = []
    for user, used, headers in rules:
        for source in sorted((root / "exporter" / user).glob("*.[ch]*")):
            text = source.read_text(errors="replace")
            for lineno, line in enumerate(text.splitlines(), 1):
                m = re.match(r'^\s*#\s*include\s+"(([a-z_]+)/[^"]+)"', line)
                if m and m.group(2) == used and m.group(1) not in headers:
                    problems.append(f"{source.relative_to(root)}:{lineno}: {user}/ includes "
                                    f"{m.group(1)}, but uses {used}/ only through "
                                    f"{', '.join(sorted(headers))}")
        for where, target in links.get(user, []):
            if target == used:
                problems.append(f"{where}: {user}/ links {LIBRARY_PREFIX}{used}, which it uses "
                                f"only through {', '.join(sorted(headers))} (an interface)")
    return problems


# --- CMake files ------------------------------------------------------------


def cmake_tokens(text):
    """(kind, text, line) for each token of a CMake file; comments and blanks dropped."""
    line = 1
    for m in CMAKE_TOKEN.finditer(text):
        if m.lastgroup not in ("comment", "blank"):
            yield m.lastgroup, m.group(), line
        line += m.group().count("\n")


def cmake_calls(text):
    """The commands of a CMake file, in order, as Calls (multi-line arguments joined)."""
    calls, current, depth, name = [], None, 0, None
    for kind, token, line in cmake_tokens(text):
        if current is None:  # between commands: a word, then its "("
            if kind == "open" and name:
                current, depth = Call(name.lower(), []), 1
            name = token if kind == "word" else None
        elif kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth == 0:
                calls.append(current)
                current = None
        else:
            current.args.append((token[1:-1] if kind == "quoted" else token, line))
    return calls


def depends_arguments(args):
    """The arguments that follow DEPENDS, up to backupdrill_layer()'s next keyword."""
    keyword, values = None, []
    for text, line in args:
        if text in LAYER_KEYWORDS:
            keyword = text
        elif keyword == "DEPENDS":
            values.append((text, line))
    return values


def layer_of(target):
    """The layer a library is ("x" for backupdrill_x), None for any other target."""
    return target.removeprefix(LIBRARY_PREFIX) if target.startswith(LIBRARY_PREFIX) else None


def declared_links(calls):
    """(layer, linked target, line) for each library a layer links in these calls."""
    for call in calls:
        if not call.args:
            continue
        target = call.args[0][0]
        if call.name == "backupdrill_layer":
            layer, linked = target, depends_arguments(call.args[1:])
        elif call.name == "target_link_libraries" and layer_of(target):
            layer, linked = layer_of(target), call.args[1:]
        else:
            continue
        for text, line in linked:
            yield layer, text, line


def cmake_files(root, folders):
    """exporter/CMakeLists.txt and each folder's CMakeLists.txt, those that exist."""
    exporter = root / "exporter"
    paths = [exporter / "CMakeLists.txt"] + [exporter / f / "CMakeLists.txt" for f in folders]
    return [p for p in paths if p.is_file()]


def check_links(rank, links):
    """No layer links the library of a layer above it (links: layer_links())."""
    problems = []
    for layer, linked_layers in links.items():
        for where, linked in linked_layers:
            if layer in rank and linked in rank and rank[linked] < rank[layer]:
                problems.append(f"{where}: {layer}/ links {LIBRARY_PREFIX}{linked}, "
                                "a layer above it")
    return problems


# --- the order exporter/CMakeLists.txt adds the folders in ------------------


def added_subdirectories(calls):
    """(folder, line) for each add_subdirectory, in order; a foreach's items
    stand for its ${variable}."""
    loops, added = {}, []
    for call in calls:
        if call.name == "foreach" and call.args:
            loops[call.args[0][0]] = call.args[1:]
        elif call.name == "add_subdirectory" and call.args:
            text, line = call.args[0]
            m = re.fullmatch(r"\$\{(\w+)\}", text)
            added += loops.get(m.group(1), []) if m else [(text, line)]
    return added


def out_of_order(added, rank, where):
    """Each folder added after one that ARCHITECTURE.md lists above it."""
    listed = [(f, line) for f, line in added if f in rank]
    return [f"{where}:{line}: {folder}/ is added after {previous}/, but ARCHITECTURE.md lists it "
            f"below {previous}/ (exporter/ adds the layers bottom to top)"
            for (previous, _), (folder, line) in zip(listed, listed[1:])
            if rank[folder] > rank[previous]]


def check_build_order(root, rank, folders):
    """exporter/CMakeLists.txt adds every layer that has a CMakeLists.txt, bottom to top."""
    path = root / "exporter" / "CMakeLists.txt"
    where = path.relative_to(root)
    if not path.is_file():
        return [f"{where}: not found; it adds the layers bottom to top"]
    added = added_subdirectories(cmake_calls(path.read_text()))
    names = {f for f, _ in added}
    problems = [f"{where}:{line}: adds {f}/, which ARCHITECTURE.md's layer list does not have"
                for f, line in added if f not in rank]
    problems += [f"{where}: does not add {f}/, which has a CMakeLists.txt"
                 for f in folders
                 if f in rank and f not in names and (path.parent / f / "CMakeLists.txt").is_file()]
    return problems + out_of_order(added, rank, where)


# --- main -------------------------------------------------------------------


def main(argv):
    root = pathlib.Path(argv[1] if len(argv) > 1 else ".")
    order = layer_order(root)
    if not order:
        sys.exit("ARCHITECTURE.md: no '## Layers' list of `folder/` lines found")
    rank = {folder: i for i, folder in enumerate(order)}  # 0 = top
    folders = exporter_folders(root)
    links = layer_links(root, folders)  # the CMake files, read once
    problems = (check_listing(order, folders) + check_includes(root, rank, folders)
                + check_links(rank, links) + check_build_order(root, rank, folders)
                + check_narrow_interfaces(root, narrow_interfaces(root), links))
    for p in problems:
        print(p)
    if problems:
        sys.exit(f"{len(problems)} layering problem(s); see ARCHITECTURE.md for the order")
    print(f"{len(order)} layers: no include or link points up, "
          "exporter/CMakeLists.txt adds them bottom to top")


if __name__ == "__main__":
    main(sys.argv)
