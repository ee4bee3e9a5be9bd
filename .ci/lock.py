"""Print constraints.txt: every distribution bertsent's dependencies pull in (the dev, ray and docs extras
included), at the version installed in this environment. `make lock` runs it in .venv.

torch is left out: the Makefile's TORCH chooses its build (the CPU one by default); its own
dependencies are in. Markers are evaluated for this interpreter and platform.
"""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, distribution

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = "bertsent"
EXTRAS = ("dev", "ray", "docs")
LEFT_OUT = {"bertsent", "torch"}


def installed_tree(root: str, extras: tuple[str, ...]) -> dict[str, str]:
    """``{name: version}`` of ``root`` and everything its requirements (with ``extras``) reach."""
    versions: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    todo = [(root, extra) for extra in ("", *extras)]
    while todo:
        name, extra = todo.pop()
        key = canonicalize_name(name)
        if (key, extra) in seen:
            continue
        seen.add((key, extra))
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            sys.exit(f"lock: {name} is required but not installed; run make install first")
        versions[key] = dist.version
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
                todo.extend((requirement.name, wanted) for wanted in ("", *requirement.extras))
    return versions


def main() -> None:
    versions = installed_tree(ROOT, EXTRAS)
    print(f"# bertsent's dependency tree ({', '.join(EXTRAS)} extras), pinned: `make lock` writes this file.")
    print(f"# Made on Python {platform.python_version()} ({sys.platform}); torch is chosen by the Makefile's TORCH.")
    for name in sorted(versions):
        if name not in LEFT_OUT:
            print(f"{name}=={versions[name]}")


if __name__ == "__main__":
    main()
