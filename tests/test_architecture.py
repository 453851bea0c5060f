"""The package's layers, checked on its source: imports point down only, no cycles, no
import hidden in a function, and the two separate programs (the embedded storage and the
Zenodo stand-in) stand on their own. A new module that breaks a rule fails here.

The layers of the Jupyter server extension, top to bottom (docs/architecture.md)::

    app, cli, launcher, pytest_plugin    composition root and programs (with rooms, fileid:
                                         the hooks into jupyter-collaboration; kernels:
                                         jupyter_server's kernel manager on the storage)
    rest                                 thin handlers
    contents                             the contents manager jupyter_server calls
    http_errors                          the one map of our errors to HTTP
    services                             the product's rules
    cs3 | zenodo | merge | fs            clients (no tornado, no jupyter_server); the pure merge;
                                         cs3:// for fsspec and the FUSE mount program
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mesh_zenodo"

#: the layers, top first; a module may import its own layer and those below it
LAYERS = [
    {"app", "cli", "zenodo_cli", "launcher", "pytest_plugin", "rooms", "fileid", "kernels"},
    {"rest"},
    {"contents"},
    {"http_errors"},
    {"services"},
    {"cs3", "zenodo", "merge", "fs"},
]
#: separate programs: what each may import from the package besides itself
PROGRAMS = {
    "storage": set(),
    "standin": {"mesh_zenodo.zenodo.vocabulary"},
}
#: package-level modules that every layer may use (the version, nothing else)
SHARED = {"mesh_zenodo", "mesh_zenodo._version"}
#: the clients speak their wire protocols only: no web framework, no Jupyter
CLIENT_FORBIDDEN = ("tornado", "jupyter_server", "jupyterlab", "nbformat")
#: imports inside functions, each with the reason it is not at the top of its module
FUNCTION_IMPORTS_ALLOWED = {
    # Jupyter's extension-point convention: `import mesh_zenodo` (done by the storage
    # program) must not import jupyter_server and the whole extension
    ("mesh_zenodo/__init__.py", "mesh_zenodo.app"),
    # the CLI loads only the program it runs (the storage must not import JupyterLab)
    *(("mesh_zenodo/cli.py", name) for name in (
        "mesh_zenodo.launcher", "mesh_zenodo.storage", "mesh_zenodo.storage.auth", "mesh_zenodo.cs3.client",
        "mesh_zenodo.standin.main", "mesh_zenodo.zenodo_cli",
    )),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The absolute names an ``import from`` statement imports (module and, where they
    are submodules, the names)."""
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    names = [target]
    for alias in node.names:
        candidate = f"{target}.{alias.name}"
        if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists() or (
            PACKAGE.parent / candidate.replace(".", "/") / "__init__.py"
        ).exists():
            names.append(candidate)
    return names


def in_type_checking(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            return True
    return False


def scan() -> dict[str, dict]:
    """For every module: its top-level imports and its imports inside functions."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "labextension" in path.relative_to(PACKAGE).parts:
            continue
        module = module_name(path)
        tree = ast.parse(path.read_text("utf-8"))
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        top, inner = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = resolve(module, path.name == "__init__.py", node)
            else:
                continue
            if in_type_checking(node, parents):
                continue
            owner = node
            in_function = False
            while owner in parents:
                owner = parents[owner]
                if isinstance(owner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    in_function = True
                    break
            (inner if in_function else top).update(names)
        found[module] = {"path": path.relative_to(PACKAGE.parent).as_posix(), "top": top, "inner": inner}
    return found


MODULES = scan()


def area(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def layer_of(module: str) -> int | None:
    for index, names in enumerate(LAYERS):
        if area(module) in names:
            return index
    return None


def ours(names) -> set[str]:
    return {n for n in names if n == "mesh_zenodo" or n.startswith("mesh_zenodo.")}


def test_the_scan_sees_the_package():
    # the rules below mean something only if the scan found the modules they speak of
    for name in ("mesh_zenodo.app", "mesh_zenodo.rest.base", "mesh_zenodo.services.pulls",
                 "mesh_zenodo.contents.manager", "mesh_zenodo.storage.store", "mesh_zenodo.cs3.client"):
        assert name in MODULES
    assert "mesh_zenodo.services.pulls" in MODULES["mesh_zenodo.rest.pulls"]["top"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer_of(m) is not None))
def test_imports_point_down(module):
    mine = layer_of(module)
    upward = sorted(
        name for name in ours(MODULES[module]["top"] | MODULES[module]["inner"]) - SHARED
        if layer_of(name) is None or layer_of(name) < mine
    )
    upward = [name for name in upward if area(name) not in PROGRAMS or mine > 0]
    assert upward == [], f"{module} (layer {sorted(LAYERS[mine])}) imports from above or outside: {upward}"


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_separate_programs_stand_alone(program):
    modules = [m for m in MODULES if area(m) == program]
    assert modules, f"no modules found for mesh_zenodo.{program}"
    for module in modules:
        foreign = sorted(
            name for name in ours(MODULES[module]["top"] | MODULES[module]["inner"]) - SHARED
            if area(name) != program and name not in PROGRAMS[program]
        )
        assert foreign == [], f"{module} is part of a separate program but imports {foreign}"
    # and nothing of the extension imports them (the CLI starts them as programs)
    for module, seen in MODULES.items():
        if area(module) in ("cli", "launcher", "pytest_plugin", program):
            continue
        users = sorted(n for n in ours(seen["top"] | seen["inner"]) if area(n) == program)
        assert users == [], f"{module} imports the {program} program: {users}"


@pytest.mark.parametrize("client", ["cs3", "zenodo"])
def test_clients_speak_their_protocol_only(client):
    for module in (m for m in MODULES if area(m) == client):
        web = sorted(n for n in MODULES[module]["top"] | MODULES[module]["inner"] if n.split(".")[0] in CLIENT_FORBIDDEN)
        assert web == [], f"{module} is a client but imports {web}"


def test_no_import_hidden_in_a_function():
    hidden = sorted(
        (info["path"], name)
        for info in MODULES.values()
        for name in ours(info["inner"])
        if (info["path"], name) not in FUNCTION_IMPORTS_ALLOWED
    )
    assert hidden == [], f"imports inside functions (move them to the top of the module): {hidden}"


def test_no_import_cycle():
    graph = {m: {n for n in ours(info["top"]) if n in MODULES and n != m} for m, info in MODULES.items()}
    # a package's __init__ importing its own submodules is not a cycle with them
    for m in graph:
        graph[m] = {n for n in graph[m] if not (n.startswith(m + ".") and MODULES[m]["path"].endswith("__init__.py"))}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == [], f"import cycles: {cycles}"
