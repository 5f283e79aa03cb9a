#!/usr/bin/python3
"""Build dist/radiomatch-<version>.zip, the archive for QGIS "Install from ZIP" and
plugins.qgis.org.

Usage: /usr/bin/python3 scripts/package.py [--output-dir DIR]

The zip holds one top folder, `radiomatch` (the plugin identifier), with an explicit
selection of the repository root (which IS the plugin folder):

  metadata.txt, LICENSE, README.md, the top-level *.py modules (__init__.py, plugin.py, ...),
  algorithms/, core/, resources/, and i18n/ as compiled .qm files (lrelease on i18n/*.ts).

Files come from the work tree, restricted to what git tracks or would track (untracked
files that .gitignore matches are left out), so uncommitted work is packaged but build
products are not. __pycache__, *.pyc/*.pyo, tests and hidden files are always excluded.
Entries are sorted and carry a fixed timestamp, so the same tree gives the same zip.
Prints the path of the zip on the last line.
"""

import argparse
import configparser
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN_ID = "radiomatch"
TOP_FILES = ("metadata.txt", "LICENSE", "README.md")
TOP_DIRS = ("algorithms", "core", "resources")
TOP_PY_EXCLUDE = {"conftest.py", "setup.py"}
EXCLUDED_DIRS = {"__pycache__", "test", "tests", ".git", "__MACOSX"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".orig", ".rej", "~", ".swp")
FIXED_DATE = (2020, 1, 1, 0, 0, 0)


def fail(message):
    sys.exit(f"package: {message}")


def read_version():
    path = os.path.join(ROOT, "metadata.txt")
    if not os.path.isfile(path):
        fail("metadata.txt not found at the repository root")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    with open(path, encoding="utf-8") as f:
        parser.read_file(f)
    version = parser.get("general", "version", fallback="").strip()
    if not version:
        fail("metadata.txt has no [general] version")
    return version


def git_files():
    """Relative paths git tracks or would track, or None when this is not a git work tree."""
    try:
        out = subprocess.run(
            ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {p for p in out.decode("utf-8").split("\0") if p}


def walk_files(rel_dir):
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, rel_dir)):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            yield os.path.relpath(os.path.join(dirpath, name), ROOT).replace(os.sep, "/")


def wanted(rel_path, known):
    parts = rel_path.split("/")
    if any(p in EXCLUDED_DIRS or p.startswith(".") for p in parts):
        return False
    if rel_path.endswith(EXCLUDED_SUFFIXES):
        return False
    if parts[-1].startswith("test_") or parts[-1] == "conftest.py":
        return False
    if not os.path.isfile(os.path.join(ROOT, rel_path)):
        return False
    return known is None or rel_path in known


def select_files():
    known = git_files()
    files = []
    for name in TOP_FILES:
        if not os.path.isfile(os.path.join(ROOT, name)):
            fail(f"{name} not found at the repository root")
        files.append(name)
    if not os.path.isfile(os.path.join(ROOT, "__init__.py")):
        fail("__init__.py not found at the repository root")
    files += sorted(n for n in os.listdir(ROOT)
                    if n.endswith(".py") and n not in TOP_PY_EXCLUDE
                    and os.path.isfile(os.path.join(ROOT, n)))
    for rel_dir in TOP_DIRS:
        if os.path.isdir(os.path.join(ROOT, rel_dir)):
            files += list(walk_files(rel_dir))
    # i18n sources (.ts) are compiled; a committed .qm would be shipped as it is.
    if os.path.isdir(os.path.join(ROOT, "i18n")):
        files += [p for p in walk_files("i18n") if not p.endswith(".ts")]
    return [f for f in dict.fromkeys(files) if f in TOP_FILES or wanted(f, known)]


def compile_translations(build_dir):
    """lrelease every i18n/*.ts into build_dir; returns {archive name: path}."""
    i18n = os.path.join(ROOT, "i18n")
    sources = sorted(n for n in os.listdir(i18n) if n.endswith(".ts")) if os.path.isdir(i18n) else []
    if not sources:
        return {}
    lrelease = shutil.which("lrelease") or "/usr/lib/qt5/bin/lrelease"
    if not os.path.exists(lrelease):
        fail("i18n/*.ts found but lrelease is missing (run `make setup`: qttools5-dev-tools)")
    compiled = {}
    for name in sources:
        qm = os.path.join(build_dir, name[:-3] + ".qm")
        subprocess.run([lrelease, "-silent", os.path.join(i18n, name), "-qm", qm], check=True)
        compiled["i18n/" + name[:-3] + ".qm"] = qm
    return compiled


def add(zf, arcname, data, mode=0o644):
    info = zipfile.ZipInfo(arcname, date_time=FIXED_DATE)
    info.create_system = 3  # unix, so the permission bits below are honoured
    if arcname.endswith("/"):
        info.external_attr = (0o40755 << 16) | 0x10
        zf.writestr(info, b"")
    else:
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, data)


def build(output_dir):
    version = read_version()
    os.makedirs(output_dir, exist_ok=True)
    target = os.path.join(output_dir, f"{PLUGIN_ID}-{version}.zip")
    with tempfile.TemporaryDirectory() as build_dir:
        entries = {f: os.path.join(ROOT, f) for f in select_files()}
        entries.update(compile_translations(build_dir))
        partial = target + ".partial"
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            dirs = {PLUGIN_ID + "/"}
            for arcname in entries:
                parts = arcname.split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    dirs.add(PLUGIN_ID + "/" + "/".join(parts[:i]) + "/")
            for d in sorted(dirs):
                add(zf, d, b"")
            for arcname in sorted(entries):
                with open(entries[arcname], "rb") as f:
                    add(zf, f"{PLUGIN_ID}/{arcname}", f.read())
        os.replace(partial, target)
    return target, len(entries)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", default=os.path.join(ROOT, "dist"))
    args = parser.parse_args()
    target, count = build(os.path.abspath(args.output_dir))
    print(f"package: {count} files, {os.path.getsize(target) / 1e6:.2f} MB")
    print(target)


if __name__ == "__main__":
    main()
