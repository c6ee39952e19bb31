"""The package's import graph, read statically: no cycles, and the client does not pull in
provisioning or YAML.

Every ``import`` of every module under ``aiopinecone/`` counts — at module level and inside
functions — except those under ``if TYPE_CHECKING:`` (never run). An import of a package's
submodule is an edge to that submodule; the implicit import of the parent packages is not an
edge (Python runs them first, whatever the module imports). Imports by computed name
(``importlib.import_module(f"...")``, as in the lazy ``aiopinecone.__getattr__``) are not seen:
write a plain ``from . import x`` inside the function where the name is known.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import attrs

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "aiopinecone"


@attrs.frozen
class Edge:
    target: str
    module_level: bool


@attrs.define
class Graph:
    modules: set[str] = attrs.Factory(set)
    edges: dict[str, set[Edge]] = attrs.Factory(dict)
    external: dict[str, set[Edge]] = attrs.Factory(dict)
    """Imports of other top-level packages (``yaml``...), per module."""

    def targets(self, module: str, *, module_level_only: bool = False) -> set[str]:
        return {
            e.target for e in self.edges.get(module, ()) if e.module_level or not module_level_only
        }


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement that can run, with whether it runs when the module loads."""

    def walk(
        node: ast.AST, module_level: bool
    ) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.orelse:
                    yield from walk_one(stmt, module_level)
                continue
            yield from walk_one(child, module_level)

    def walk_one(
        node: ast.AST, module_level: bool
    ) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, module_level
        inner = module_level and not isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        yield from walk(node, inner)

    yield from walk(tree, True)


def read_graph(package_dir: Path) -> Graph:
    """The import graph of the package rooted at ``package_dir``."""
    root = package_dir.parent
    files: dict[str, tuple[Path, bool]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        files[".".join(parts)] = (path, is_package)
    top = package_dir.name
    graph = Graph(modules=set(files))

    def owner(name: str) -> str | None:
        while name not in files and "." in name:
            name = name.rpartition(".")[0]
        return name if name in files else None

    for module, (path, is_package) in files.items():
        here = module if is_package else module.rpartition(".")[0]
        edges = graph.edges.setdefault(module, set())
        external = graph.external.setdefault(module, set())
        for node, module_level in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = here
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    source = f"{base}.{node.module}" if node.module else base
                else:
                    source = node.module or ""
                # `from pkg import sub` imports the submodule when there is one.
                names = [
                    f"{source}.{alias.name}" if f"{source}.{alias.name}" in files else source
                    for alias in node.names
                ]
            for name in names:
                if name == top or name.startswith(top + "."):
                    target = owner(name)
                    if target is not None:
                        edges.add(Edge(target, module_level))
                else:
                    external.add(Edge(name.partition(".")[0], module_level))
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        # Tarjan's algorithm, iterative (no recursion limit on a deep graph).
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = []

        def push(v: str) -> None:
            nonlocal counter
            index[v] = low[v] = counter
            counter += 1
            stack.append(v)
            on_stack.add(v)
            work.append((v, iter(sorted(graph.targets(v)))))

        push(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    push(w)
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1 or v in graph.targets(v):
                        found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def loaded_by(graph: Graph, module: str) -> tuple[set[str], set[str]]:
    """(package modules, external packages) that loading ``module`` loads, statically.

    Module-level imports are followed transitively, with the packages above each module reached
    (``models/__init__`` for ``models.files``), except the top-level package: what ``import
    aiopinecone`` loads is the public surface's business (its own lazy-import test).
    """
    top = module.partition(".")[0]
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        parent = current.rpartition(".")[0]
        if parent and parent != top:
            todo.append(parent)
        todo.extend(graph.targets(current, module_level_only=True) - {top})
    external = {e.target for m in seen for e in graph.external.get(m, ()) if e.module_level}
    return seen, external


def _describe(found: list[list[str]], graph: Graph) -> str:
    lines = []
    for component in found:
        lines.append(" <-> ".join(component))
        for module in component:
            inner = sorted(t for t in graph.targets(module) if t in component)
            lines.append(f"    {module} imports {', '.join(inner)}")
    return "\n".join(lines)


# -- the package --------------------------------------------------------------------------


def test_the_package_has_no_import_cycle() -> None:
    graph = read_graph(PACKAGE_DIR)
    assert len(graph.modules) > 40  # the walk found the package
    found = cycles(graph)
    assert not found, "import cycles:\n" + _describe(found, graph)


def test_provisioning_never_imports_the_resources() -> None:
    graph = read_graph(PACKAGE_DIR)
    provisioning = [m for m in graph.modules if m.startswith("aiopinecone.provision")]
    assert "aiopinecone.provision._apply" in provisioning
    for module in provisioning:
        targets = graph.targets(module)
        assert not {t for t in targets if t.startswith("aiopinecone.resources")}, module
        assert "aiopinecone._client" not in targets, module


def test_loading_the_resources_loads_neither_provisioning_nor_yaml() -> None:
    graph = read_graph(PACKAGE_DIR)
    modules, external = loaded_by(graph, "aiopinecone.resources")
    assert "aiopinecone.resources._provision" in modules
    assert not {m for m in modules if m.startswith("aiopinecone.provision")}
    assert "yaml" not in external
    assert "aiohttp" in external  # the walk does see external imports


# -- the walker itself ----------------------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_walker_finds_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from . import b\n",
            "sub/__init__.py": "",
            "b.py": "def f():\n    from .sub import c\n",
            "sub/c.py": "import pkg.a\n",
        },
    )
    assert cycles(read_graph(root)) == [["pkg.a", "pkg.b", "pkg.sub.c"]]


def test_the_walker_ignores_type_checking_imports_and_parent_packages(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "from .a import x\n",
            "a.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .b import y\nelse:\n    import yaml\n"
                "x = 1\n"
            ),
            "b.py": "from .a import x\ny = 2\n",
        },
    )
    graph = read_graph(root)
    assert cycles(graph) == []
    assert graph.targets("pkg.a") == set()
    assert {e.target for e in graph.external["pkg.a"]} == {"typing", "yaml"}
    assert loaded_by(graph, "pkg.b") == ({"pkg.a", "pkg.b"}, {"typing", "yaml"})
