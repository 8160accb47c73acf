"""The shape of the house, checked: no import cycles, small modules, a core without the CLI.

Every import counts, deferred ones inside functions too (that is how the old
``imageio`` <-> ``pipeline`` cycle hid), except those under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "convcli"
MAX_LINES = 400
CLI_ONLY = ("click", "rich")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {
        id(node)
        for top in ast.walk(tree)
        if isinstance(top, ast.If) and "TYPE_CHECKING" in ast.unparse(top.test)
        for node in ast.walk(top)
    }
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _graph() -> dict[str, set[str]]:
    """Module -> the convcli modules it imports (a package's own __init__ excluded)."""
    graph = {}
    for name, path in MODULES.items():
        targets = {t for t in _imports(path) if t in MODULES and t != name}
        # `from .x import y` imports x's package first; that edge is not a cycle we made.
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    return graph


def test_the_import_graph_has_no_cycle():
    graph, state, stack = _graph(), {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle = [*stack[stack.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_is_small_enough_to_read_in_one_sitting(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.startswith("convcli.cli")))
def test_only_the_cli_package_imports_click_or_rich(name):
    used = {m.split(".")[0] for m in _imports(MODULES[name])}
    assert not used & set(CLI_ONLY), f"{name} imports {sorted(used & set(CLI_ONLY))}"


def _listed_in_readme() -> set[str]:
    """The module paths the README's "Where things are" table names.

    A cell may list several modules of one package: ``engine/direct.py``,
    ``separable.py`` means ``engine/separable.py`` too.
    """
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Where things are", 1)[1].split("\n#", 1)[0]
    listed: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        prefix = ""
        for item in line.split("|")[1].split(","):
            name = item.strip().strip("`")
            if "/" in name:
                prefix = name.rsplit("/", 1)[0] + "/"
                listed.add(name)
            else:
                listed.add(prefix + name)
    return listed


def test_the_readme_says_where_every_module_is():
    expected = {
        str(path.relative_to(PACKAGE))
        for path in MODULES.values()
        if path.name != "__init__.py" or path.parent == PACKAGE
    }
    missing = expected - _listed_in_readme()
    assert not missing, f"README 'Where things are' does not list {sorted(missing)}"
