# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The package map holds: no import cycles, and no module importing another
subpackage's private (underscore) module, except the shared ``utils``.
"""

import ast
from pathlib import Path

import survey2survey

ROOT = Path(survey2survey.__file__).parent
PACKAGE = "survey2survey"


def _module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules():
    """Every non-test module of the package: name -> path."""
    modules = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).parts
        if "tests" in relative or path.name in ("conftest.py", "version.py"):
            continue
        modules[_module_name(path)] = path
    return modules


def _resolve(module, node, is_package):
    """Absolute names imported by an ``ast.Import`` / ``ast.ImportFrom`` node."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[:len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    # "from . import x" imports the submodule x; "from .m import y" imports m
    return [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]


def _import_graph():
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        targets = set()
        for node in ast.walk(tree):  # imports at any depth: inside functions too
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _resolve(name, node, path.name == "__init__.py"):
                    # importing a.b.c runs a, a.b and a.b.c
                    parts = target.split(".")
                    for k in range(1, len(parts) + 1):
                        candidate = ".".join(parts[:k])
                        if candidate in modules and candidate != name:
                            targets.add(candidate)
        graph[name] = targets
    return graph


def _subpackage(name):
    """``'io'`` for ``survey2survey.io`` and its modules; None for the package itself."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def test_no_import_cycles():
    """The modules of the package import each other without a cycle (imports at any depth)."""
    graph = _import_graph()
    # a package's own __init__ is imported by its children at run time; that is no cycle
    edges = {name: {t for t in targets if not name.startswith(t + ".")}
             for name, targets in graph.items()}
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_no_private_imports_across_subpackages():
    """A subpackage imports another's public API only; ``utils`` is the shared private toolbox."""
    offences = []
    for name, targets in _import_graph().items():
        for target in targets:
            private = any(part.startswith("_") for part in target.split(".")[1:])
            own = _subpackage(target) == _subpackage(name) and _subpackage(name) is not None
            if private and not own and _subpackage(target) != "utils":
                offences.append(f"{name} imports {target}")
    assert not offences, "\n".join(sorted(offences))


def test_utils_depends_on_nothing_above_it():
    """The shared helpers import only exceptions, config and each other."""
    allowed = {f"{PACKAGE}.exceptions", f"{PACKAGE}.config", PACKAGE}
    for name, targets in _import_graph().items():
        if _subpackage(name) == "utils" or name == f"{PACKAGE}.utils":
            outside = {t for t in targets if _subpackage(t) != "utils"
                       and t != f"{PACKAGE}.utils" and t not in allowed}
            assert not outside, f"{name} imports {sorted(outside)}"
