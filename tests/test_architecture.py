"""The house rules of DESIGN.md §2 and §5, checked on the code itself.

* no import circle among the modules of ``src/compare`` (function-local imports counted);
* no function or method longer than 60 lines;
* one module holds the atomic write (``os.replace`` appears nowhere else).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "compare"
MAX_LINES = 60


def _modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.glob("*.py"))}


def _imports(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    """Modules of the package that ``name`` imports anywhere (top level or inside functions)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("compare."):
            out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("compare."))
    return (out & known) - {name}


def _all_imports(tree: ast.Module) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
    return out


def test_every_package_import_names_a_module_that_exists():
    mods = _modules()
    missing = {name: sorted(_all_imports(tree) - set(mods) - {"resources"}) for name, tree in mods.items()}
    assert {k: v for k, v in missing.items() if v} == {}


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    graph = {name: _imports(name, tree, known) for name, tree in mods.items()}
    graph.pop("__init__", None)  # the package's face re-exports lazily
    graph.pop("__main__", None)
    for deps in graph.values():
        deps.discard("__init__")
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_find_cycle_sees_a_circle_through_a_local_import():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle_in_the_package():
    assert find_cycle(import_graph()) is None


#: The layers of the house, bottom to top (README "How the code is organised"); a module imports only from its
#: own layer or the ones below.
LAYERS = [
    ("layer 0", {"config", "schema", "cache", "runner", "dates", "grammar"}),
    ("reading", {"io", "normalize", "recognize", "parse", "places", "metadata", "extract"}),
    ("words", {"documents", "tokens"}),
    ("corpus", {"corpus"}),
    ("coding", {"codebook", "classify", "coding", "training", "labels", "vocab"}),
    ("analyses", {"cluster", "analysis", "similarity"}),
    ("presentation", {"theme", "names", "plots", "export", "views", "explore"}),
    ("entry points", {"study", "build", "cli"}),
]
ENTRY_POINTS = LAYERS[-1][1]


def _layer(module: str) -> int:
    return next(i for i, (_, mods) in enumerate(LAYERS) if module in mods)


def test_every_module_has_a_layer():
    assert sorted(set(import_graph()) - set().union(*(m for _, m in LAYERS))) == []


def test_no_import_points_up():
    upward = sorted(f"{a} ({LAYERS[_layer(a)][0]}) -> {b} ({LAYERS[_layer(b)][0]})"
                    for a, deps in import_graph().items() for b in deps if _layer(b) > _layer(a))
    assert upward == []


def test_only_the_entry_points_read_the_configuration():
    assert {a for a, deps in import_graph().items() if "config" in deps} <= ENTRY_POINTS


def test_the_layer_test_sees_an_upward_import(monkeypatch):
    import test_architecture as me

    graph = {**import_graph(), "parse": {"grammar", "plots"}}
    monkeypatch.setattr(me, "import_graph", lambda: graph)
    with pytest.raises(AssertionError):
        me.test_no_import_points_up()


def long_functions() -> list[str]:
    out = []
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_LINES:
                    out.append(f"{name}.{node.name}: {n} lines")
    return out


def test_no_function_over_60_lines():
    assert long_functions() == []


def test_one_module_holds_the_atomic_write():
    users = sorted(name for name, tree in _modules().items()
                   if any(isinstance(n, ast.Attribute) and n.attr == "replace" and isinstance(n.value, ast.Name)
                          and n.value.id == "os" for n in ast.walk(tree)))
    assert users == ["cache"]


if __name__ == "__main__":  # python tests/test_architecture.py: the report, without pytest
    print("cycle:", find_cycle(import_graph()))
    print("\n".join(long_functions()))
    pytest.main([__file__, "-q"])
