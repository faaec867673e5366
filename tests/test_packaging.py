"""A built wheel carries what the package needs at run time: the prompt files and the answer weights."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def build_wheel(tmp_path: Path) -> Path:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist")],
        check=True, capture_output=True, text=True, timeout=300,
    )
    assert "absent from the `packages` configuration" not in built.stdout + built.stderr, "setuptools warns at every install"
    (wheel,) = (tmp_path / "dist").glob("assistant-*.whl")
    return wheel


def test_wheel_ships_the_prompts_and_uses_them(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    names = {p.name for p in (ROOT / "prompts").glob("*.txt")}
    assert names and {p.name for p in (unpacked / "assistant" / "_prompts").glob("*.txt")} == names
    # the unpacked wheel, away from the source tree, finds and checks every prompt it ships
    script = (
        "import assistant.answer.prompts as p; "
        "[p.load_prompt(n) for n in p.FIELDS]; "
        "print(p.PROMPTS_DIR)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == (unpacked / "assistant" / "_prompts").resolve()


def test_wheel_ships_the_answer_weights(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        assert "assistant/weights/answerer.json" in archive.namelist()
        assert {f"assistant/interface/web/{n}" for n in ("index.html", "app.js", "style.css")} <= set(archive.namelist()), "the page"
        archive.extractall(tmp_path / "site")
    script = "import assistant.answer.scorer as s; print(s.load_scorer().header['trained_by']); print(s.__file__)"
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(tmp_path / "site") + ":" + ":".join(sys.path[1:]), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    trained_by, module = result.stdout.strip().splitlines()
    assert trained_by == "python -m training.train_answerer"
    assert Path(module).resolve().is_relative_to((tmp_path / "site").resolve()), "loaded from the wheel, not the source tree"


def import_cycles(package: Path) -> list[list[str]]:
    """Cycles among a package's modules, counting every import anywhere in a module (function-level and TYPE_CHECKING too)."""
    import ast

    modules = {}
    for file in package.rglob("*.py"):
        parts = file.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, file in modules.items():
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    cycles: list[list[str]] = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == start:
                cycles.append([*path, nxt])
            elif nxt not in path and nxt > start:  # each cycle once, from its smallest module
                walk(start, nxt, [*path, nxt])

    for module in sorted(graph):
        walk(module, module, [module])
    return cycles


def test_no_import_cycle_in_the_package(tmp_path: Path) -> None:
    planted = tmp_path / "pkg"
    planted.mkdir()
    (planted / "__init__.py").write_text("", encoding="utf-8")
    (planted / "a.py").write_text("def f():\n    from pkg.b import g\n", encoding="utf-8")
    (planted / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import f\n", encoding="utf-8")
    assert import_cycles(planted) == [["pkg.a", "pkg.b", "pkg.a"]], "the detector sees function-level and TYPE_CHECKING imports"
    assert import_cycles(ROOT / "assistant") == []


LAYERS = [
    {"errors", "types", "settings", "cache", "llm", "llama", "text"},  # shared facts, derived files, the two outside boundaries
    {"index"},  # embed, store
    {"tuning"},  # numbers per embedder
    {"ingest"},  # files -> chunks -> the index
    {"answer"},  # question -> passages -> cited answer
    {"api"},  # Assistant
    {"evaluation"},
    {"interface", "__init__", "__main__"},
]
"""The README's architecture, bottom up: a module may import from its own layer and the layers below it, never above."""


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def upward_imports(package: Path) -> list[str]:
    import ast

    level = {stage: i for i, layer in enumerate(LAYERS) for stage in layer}
    found = []
    for file in sorted(package.rglob("*.py")):
        parts = file.relative_to(package.parent).with_suffix("").parts
        module = ".".join(parts)
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name.split(".")[0] == package.name and level[_stage(name)] > level[_stage(module)]:
                    found.append(f"{module} imports {name}")
    return found


def test_each_stage_imports_only_the_stages_below_it() -> None:
    package = ROOT / "assistant"
    stages = {_stage(".".join(f.relative_to(ROOT).with_suffix("").parts)) for f in package.rglob("*.py")}
    assert stages == set().union(*LAYERS), "every stage (subpackage or top-level module) has its layer"
    assert upward_imports(package) == []


def test_llama_index_and_the_environment_each_have_one_door() -> None:
    """llama-index is imported only in assistant/llama.py; the environment is read only in assistant/settings.py."""
    import ast

    offenders = []
    for file in sorted((ROOT / "assistant").rglob("*.py")):
        text = file.read_text(encoding="utf-8")
        name = file.relative_to(ROOT).as_posix()
        imported = set()
        for node in ast.walk(ast.parse(text)):
            imported |= {node.module} if isinstance(node, ast.ImportFrom) and node.module else set()
            imported |= {a.name for a in node.names} if isinstance(node, ast.Import) else set()
        if any(m.split(".")[0] == "llama_index" for m in imported) and name != "assistant/llama.py":
            offenders.append(f"{name} imports llama_index")
        if any(word in text for word in ("os.environ", "getenv", "load_dotenv")) and name != "assistant/settings.py":
            offenders.append(f"{name} reads the environment")
    assert offenders == []


def test_no_module_over_300_lines() -> None:
    long = {f.relative_to(ROOT).as_posix(): n for d in ("assistant", "eval", "scripts", "training") for f in (ROOT / d).rglob("*.py")
            if (n := len(f.read_text(encoding="utf-8").splitlines())) > 300}
    assert long == {}


def test_the_readme_architecture_names_every_stage_and_module() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Architecture") : readme.index("## How it works")]
    package = ROOT / "assistant"
    expected = {f"{p.name}/" for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    expected |= {p.name for p in package.glob("*.py") if p.name not in {"__init__.py", "__main__.py"}}
    expected |= {p.name for d in package.iterdir() if d.is_dir() for p in d.glob("*.py") if p.name != "__init__.py"}
    assert sorted(name for name in expected if name not in section) == []


def test_every_eval_script_imports(tmp_path: Path) -> None:
    """The training, evaluation and benchmark scripts are outside mypy's reach: at least their imports must resolve."""
    scripts = sorted(str(f) for d in ("eval", "training") for f in (ROOT / d).rglob("*.py") if f.name != "__main__.py")
    code = "import runpy, sys\nfor path in sys.argv[1:]:\n    runpy.run_path(path, run_name='imported')\n"
    result = subprocess.run([sys.executable, "-c", code, *scripts], capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'eval' / 'bench'}"})
    assert result.returncode == 0, result.stderr[-2000:]
