"""The layout's promise: data flows one way, so no module imports a layer above its own."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import setuptools

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "veil"


def modules_imported(path: Path) -> set[str]:
    """Every absolute import in ``path``, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def imported(path: Path) -> set[str]:
    return {n for n in modules_imported(path) if n == "veil" or n.startswith("veil.")}


def imports_of(package: str) -> dict[str, set[str]]:
    folder = SRC / package.removeprefix("veil.").replace(".", "/")
    return {str(p.relative_to(SRC)): imported(p) for p in folder.rglob("*.py")}


def offenders(package: str, *above: str) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in imports_of(package).items()
        for name in names
        if any(name == a or name.startswith(a + ".") for a in above)
    )


def test_the_service_does_not_import_the_review_app_or_the_cli():
    assert offenders("veil.service", "veil.review", "veil.cli") == []


def test_the_review_app_does_not_import_the_cli():
    assert offenders("veil.review", "veil.cli") == []


def test_the_pipeline_stages_import_no_shell():
    shells = ("veil.service", "veil.review", "veil.cli", "veil.live")
    for stage in ("veil.media", "veil.detect", "veil.track", "veil.annotations", "veil.redact"):
        assert offenders(stage, *shells, "veil.pipeline") == [], stage
    assert offenders("veil.pipeline", *shells) == []


def test_names_sit_at_the_bottom():
    assert imported(SRC / "names.py") == set()


def test_box_geometry_sits_at_the_bottom():
    # one IoU for every stage: detection, tracking, stitching and the evaluation
    assert imported(SRC / "geometry.py") == set()


def test_tracking_imports_no_later_stage():
    assert offenders("veil.track", "veil.annotations", "veil.redact", "veil.distributed") == []


def test_only_the_media_stage_imports_pyav():
    # decoding and encoding live in one place: every other package asks veil.media
    outside = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] != "media"
        and any(n == "av" or n.startswith("av.") for n in modules_imported(path))
    ]
    assert sorted(outside) == []


def test_no_module_is_over_500_lines():
    # past that a module holds more than one idea: split it along its seam
    long = {
        str(path.relative_to(SRC)): n
        for path in SRC.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 500
    }
    assert long == {}


def top_level_names(folder: Path) -> set[str]:
    """What ``folder`` on sys.path lets one import: its modules and packages."""
    return {
        p.stem
        for p in folder.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }


def test_the_package_imports_nothing_it_does_not_ship():
    # the evaluation, the sample media and the test helpers stay out of the
    # wheel, so veil must run without them
    unshipped = top_level_names(REPO / "bench") | top_level_names(REPO / "tests")
    offending = sorted(
        f"{path.relative_to(SRC)} imports {name}"
        for path in SRC.rglob("*.py")
        for name in modules_imported(path)
        if name.split(".")[0] in unshipped
    )
    assert "evaluation" in unshipped
    assert offending == []


def test_the_wheel_ships_veil_and_not_its_evaluation():
    # pyproject's [tool.setuptools.packages.find] decides what the wheel holds;
    # setuptools reads it as a namespace-package search under each `where`
    find = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    (where,) = find["packages"]["find"]["where"]
    folder = REPO / where
    # a folder left with only __pycache__ (after a move) ships no module
    packages = [
        p
        for p in setuptools.find_namespace_packages(where=str(folder))
        if any((folder / p.replace(".", "/")).glob("*.py"))
    ]
    assert "veil" in packages
    assert all(p == "veil" or p.startswith("veil.") for p in packages), packages
    modules = {p.stem for pkg in packages for p in (folder / pkg.replace(".", "/")).glob("*.py")}
    assert not {"evaluation", "samples"} & (modules | {p.split(".")[-1] for p in packages})


def test_only_the_cli_takes_the_composed_web_apps():
    # service, review and live each serve their own routes; veil.apps puts them together
    users = sorted(
        str(path.relative_to(SRC)) for path in SRC.rglob("*.py") if "veil.apps" in imported(path)
    )
    assert all(user.startswith("cli/") for user in users), users


def test_argparse_lives_only_in_the_cli():
    # the library takes typed settings; only the command line parses arguments
    outside = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] != "cli" and "argparse" in modules_imported(path)
    )
    assert outside == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the veil modules it imports (``from package import submodule`` counts as
    importing the submodule), at the top or inside a function."""
    modules = {_module_name(path): path for path in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    whole = f"{node.module}.{alias.name}"
                    targets.add(whole if whole in modules else node.module)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_no_modules_import_each_other_in_a_circle():
    # a circle means two modules are one idea, or one hides an import inside a function
    graph = import_graph()
    circles = []
    for start in graph:
        seen, stack = set(), [(start, (start,))]
        while stack:
            module, trail = stack.pop()
            for target in graph[module]:
                if target == start:
                    circles.append(" -> ".join((*trail, start)))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, (*trail, target)))
    assert circles == []


def test_no_function_is_over_80_lines():
    # past that a function holds a whole feature: split it along its steps
    long = {
        f"{path.relative_to(SRC)}:{node.lineno} {node.name}": length
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := node.end_lineno - node.lineno + 1) > 80
    }
    assert long == {}


def test_the_review_app_reaches_the_service_through_one_door():
    # review.service_port names all review uses of the job service; nothing else goes around it
    door = "review/service_port.py"
    around = [
        f"{module} imports {name}"
        for module, names in imports_of("veil.review").items()
        for name in names
        if module != door and (name == "veil.service" or name.startswith("veil.service."))
    ]
    assert around == []
    assert imported(SRC / door) <= {
        n for n in imported(SRC / door) if n.startswith("veil.service.")
    }
