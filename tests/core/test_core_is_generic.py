"""The core knows no dataset, no model and no strategy: their names live in the plugins."""
import inspect
import re
from pathlib import Path

from matbench.plugins import load_plugins
from matbench.registry import DATASETS, MODELS, STRATEGIES

CORE = Path(__file__).resolve().parents[2] / "matbench"
FIRST_PARTY = ("matbench_aim", "matbench_classic", "matbench_datasets", "matbench_metrics", "matbench_zoo")


def _first_party(registry):
    load_plugins()
    return {name: cls for name, cls in registry.module_dict.items() if cls.__module__.split(".")[0] in FIRST_PARTY}


def _forbidden() -> set[str]:
    words = set(_first_party(MODELS))
    for cls in _first_party(STRATEGIES).values():
        # identifiers, not plain English words ("tile" and "overlap" also name other things)
        words |= {p for p in inspect.signature(cls).parameters if "_" in p or "ratio" in p}
    for cls in _first_party(DATASETS).values():
        for group in (getattr(cls, "METAINFO", {}) or {}).get("groups", []):
            words |= set(group["values"]) | set(group["values"].values())
    return words


def test_core_names_no_group_model_or_strategy_parameter():
    words = _forbidden()
    assert {"SO", "portrait", "AimNet", "ClosedForm", "local_ratio"} <= words     # the check checks
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(words))) + r")(?![\w-])")
    found = [f"{path.relative_to(CORE.parent)}:{n}: {m.group(1)}"
             for path in sorted(CORE.rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1)
             for m in [pattern.search(line)] if m]
    assert found == []


def test_first_party_plugins_import_only_the_public_api():
    import ast

    plugins = CORE.parent / "plugins"
    private = []
    for path in sorted(plugins.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "matbench":
                if node.module != "matbench.api":
                    private.append(f"{path.relative_to(plugins)}: from {node.module}")
            elif isinstance(node, ast.Import):
                private += [f"{path.relative_to(plugins)}: import {a.name}" for a in node.names
                            if a.name.split(".")[0] == "matbench"]
    assert private == []
