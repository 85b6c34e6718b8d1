#!/usr/bin/env python3
"""Passes when check_layers.py fails on a tree with exactly the problems given.

Usage: expect_problems.py <check_layers.py> <tree> <problem line>...

The checker must exit non-zero, print each expected problem line, and print
no other problem line: a bad fixture fails for its own reason, not for
another one (nor for a crash, whose traceback matches no expected line).
"""
import subprocess
import sys


def run_checker(checker, tree):
    """The checker's exit code, its problem lines (stdout) and its stderr."""
    run = subprocess.run([sys.executable, checker, tree], capture_output=True, text=True)
    return run.returncode, run.stdout.splitlines(), run.stderr


def mismatches(code, printed, expected):
    """What differs from a failure with exactly the expected problem lines."""
    found = ["exit code 0, expected a failure"] if code == 0 else []
    found += [f"missing: {line}" for line in expected if line not in printed]
    found += [f"unexpected: {line}" for line in printed if line not in expected]
    return found


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    checker, tree, expected = argv[1], argv[2], argv[3:]
    code, printed, stderr = run_checker(checker, tree)
    print("\n".join(printed))
    print(stderr, end="")
    found = mismatches(code, printed, expected)
    if found:
        sys.exit("expect_problems.py: " + "; ".join(found))
    print(f"expect_problems.py: {tree} fails as expected (exit code {code})")


if __name__ == "__main__":
    main(sys.argv)
