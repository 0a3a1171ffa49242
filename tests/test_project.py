"""The project's own promises: environment.yml in step with pyproject.toml, the README's commands real."""

from __future__ import annotations

import re
import tomllib

import yaml

from compare import config


def _pyproject():
    return tomllib.loads((config.ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    py = _pyproject()["project"]
    wanted = {r for r in py["dependencies"]} | {r for r in py["optional-dependencies"]["test"]} | {
        r for r in py["optional-dependencies"]["dask"]}
    env = yaml.safe_load((config.ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    listed = {r for r in pip if not r.startswith("-e")}
    assert {_name(r): r for r in listed} == {_name(r): r for r in wanted}
    assert "python=3.11" in env["dependencies"]


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (config.ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", readme, re.S).group(1)
    assert "make report" in first_block and "make test" in first_block
    ci = (config.ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.M)
    makefile = (config.ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^report:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_bundled_raw_reports_are_the_seeds_byte_for_byte():
    seeds = config.ROOT.parent / "shared" / "seeds"
    names = {"000_0716d3f446fb9570.txt": "huidong_2024-08-20.txt", "001_5d0d6b16fdce1633.txt": "haizhu_2025-05-13.txt",
             "004_c3202a58ced73d81.txt": "xuchang_2024-12-31.txt"}
    assert sorted(p.name for p in config.RAW_DIR.iterdir()) == sorted(names.values())
    if seeds.is_dir():  # shared/ sits beside the clone on developer machines and CI
        for seed, raw in names.items():
            assert (seeds / seed).read_bytes() == (config.RAW_DIR / raw).read_bytes()
