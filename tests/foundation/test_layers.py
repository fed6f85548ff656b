"""The architecture holds: layers (import-linter contracts in pyproject.toml), no import cycles, imports at module
level unless a comment says why, and the worker's job lists complete without the web package."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "marketing"


def lint_imports(config: Path) -> subprocess.CompletedProcess:
    """import-linter in its own process: its CLI calls logging.config.dictConfig, which would disable every
    logger this test process already has (later tests then lose the product's log records)."""
    return subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--config", str(config), "--no-cache"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_import_linter_contracts_hold():
    result = lint_imports(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_contract_fails(tmp_path):
    """The check can fail: a contract the code breaks (the web imports the models) is reported as broken."""
    config = tmp_path / "contracts.toml"
    config.write_text('[tool.importlinter]\nroot_packages = ["marketing"]\n\n[[tool.importlinter.contracts]]\n'
                      'name = "probe"\ntype = "forbidden"\nsource_modules = ["marketing.web"]\n'
                      'forbidden_modules = ["marketing.models"]\n')
    result = lint_imports(config)
    assert result.returncode == 1
    assert "BROKEN" in result.stdout


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), each sorted; function-level imports count."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or module in graph.find_modules_directly_imported_by(module):
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(cycles)


def test_there_are_no_import_cycles_in_marketing():
    graph = grimp.build_graph("marketing", cache_dir=None)
    assert import_cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert import_cycles(graph) == [["p.a", "p.b"]]


WHY = "# why:"


def unexplained_function_imports(source: str) -> list[int]:
    """Line numbers of imports inside functions whose line carries no `# why:` comment."""
    lines = source.splitlines()
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, ast.Import | ast.ImportFrom) and WHY not in lines[child.lineno - 1]:
                found.append(child.lineno)
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(ast.parse(source), False)
    return found


def test_imports_inside_functions_say_why():
    """Imports belong at module level; one inside a function (to keep `import marketing` light, or to break a
    cycle that cannot be broken otherwise) says why on its line. The sandbox, a separate app, is exempt."""
    offenders = [f"{path.relative_to(ROOT)}:{line}"
                 for path in sorted(PACKAGE.rglob("*.py")) if "sandbox" not in path.relative_to(PACKAGE).parts
                 for line in unexplained_function_imports(path.read_text())]
    assert offenders == []


def test_the_function_import_check_reads_the_comment():
    source = "import os\n\ndef f():\n    import json\n    import re  # why: a reason\n    return json, re, os\n"
    assert unexplained_function_imports(source) == [4]


WORKER_LISTS = """
import importlib, json, sys
from marketing.jobs import tick, worker
from marketing.sync import outcome

def resolves(path):
    module, _, name = path.rpartition(".")
    return callable(getattr(importlib.import_module(module), name))

print(json.dumps({
    "periodic": {task.name: [task.func, resolves(task.func)] for task in tick.PERIODIC},
    "after_sync": {name: [path, resolves(path)] for name, path in outcome.AFTER_SYNC.items()},
    "web_imported": any(m == "marketing.web" or m.startswith("marketing.web.") for m in sys.modules),
}))
"""


def test_the_worker_knows_every_job_without_the_web_package():
    """The after-sync work and the periodic tasks come from their lists, not from importing the web package
    (which used to register them as a side effect)."""
    result = subprocess.run([sys.executable, "-c", WORKER_LISTS], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    lists = json.loads(result.stdout)
    assert lists["after_sync"] == {
        "dashboard-rollups": ["marketing.dashboard.rollups.after_sync", True],
        "bid-suggestions": ["marketing.bids.suggest.after_sync", True],
        "sales-history": ["marketing.sync.history.after_sync", True],
        "promotion-plans": ["marketing.promotions.plans.after_sync", True],
        "promotion-suggestions": ["marketing.promotions.service.after_sync", True],
    }
    assert lists["periodic"] == {
        "purge-reset-links": ["marketing.accounts.purge_expired_reset_links", True],
        "token-check": ["marketing.connections.check.run_job", True],
        "sync-nightly": ["marketing.sync.runs.nightly", True],
        "sync-resume": ["marketing.sync.runs.resume_all", True],
        "sales-history": ["marketing.sync.history.queue_all", True],
        "email-weekly": ["marketing.digest.weekly.schedule", True],
        "email-alerts": ["marketing.digest.alerts.send_all", True],
    }
    assert lists["web_imported"] is False


def test_every_package_has_a_layer():
    """A new package or module of marketing/ is placed in the layers contract, or import-linter never checks it.
    Left out on purpose: the package's own entry points, the settings read before anything else, the sandbox."""
    layers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}
    present = {path.stem if path.is_file() else path.name for path in PACKAGE.iterdir()
               if path.suffix == ".py" or (path / "__init__.py").exists()}
    assert present - named == {"__init__", "__main__", "config", "sandbox"}
    assert named <= present
