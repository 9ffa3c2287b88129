"""verify compares what the two versions computed value by value (issue #15, section 5)."""

from __future__ import annotations

import pytest

from green_lint.verify.report_text import result_lines
from green_lint.verify.results import compare_results, parse_tolerances, stdout_diff, values_of, words
from green_lint.verify.runs import Run, RunSettings
from green_lint.verify.summary import _results


def test_result_lines_give_named_values_and_whole_lines():
    lines = ["RESULT accuracy=0.940 loss=0.21", "RESULT best params ['C', 'gamma']", "RESULT accuracy=0.941"]
    assert values_of(lines) == {"accuracy": "0.941", "loss": "0.21", "RESULT": "best params ['C', 'gamma']"}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("RESULT acc=0.90 loss 1.5", "RESULT acc=0.90 loss 2.7"),  # text beside the pairs
        ("RESULT label=red car", "RESULT label=red bike"),  # a value with a space in it
    ],
)
def test_a_change_outside_the_name_value_pairs_is_a_change_of_result(before, after):
    entries = {entry["name"]: entry for entry in compare_results([[before]] * 2, [[after]] * 2, {})}
    assert entries["RESULT"]["same"] is False
    assert not all(entry["same"] for entry in entries.values())


def test_each_value_is_compared_with_its_change_and_tolerance():
    before = [["RESULT accuracy=0.940 epochs=10"]] * 3
    after = [["RESULT accuracy=0.935 epochs=10"]] * 3
    strict = {entry["name"]: entry for entry in compare_results(before, after, {})}
    assert strict["accuracy"]["same"] is False
    assert strict["accuracy"]["change_percent"] == pytest.approx(-0.532, abs=1e-3)
    assert strict["epochs"]["same"] is True and strict["epochs"]["change_percent"] == 0
    tolerant = {entry["name"]: entry for entry in compare_results(before, after, {"accuracy": 0.005})}
    assert tolerant["accuracy"]["same"] is True
    assert words(list(tolerant.values())) == "accuracy 0.940 -> 0.935 (-0.5%) within tolerance, epochs 10"
    assert compare_results(before, after, {"accuracy": 0.004})[0]["same"] is False


def test_values_that_differ_between_runs_of_one_version_are_nondeterministic():
    before = [["RESULT loss=0.20"], ["RESULT loss=0.21"], ["RESULT loss=0.20"]]
    after = [["RESULT loss=0.20"]] * 3
    (entry,) = compare_results(before, after, {})
    assert entry["nondeterministic"] is True and entry["before"] == "0.20" and entry["same"] is True


def test_tolerances_are_parsed_or_refused():
    assert parse_tolerances(["accuracy=0.005", "loss=1e-3"]) == {"accuracy": 0.005, "loss": 0.001}
    for bad in ("accuracy", "=0.1", "accuracy=high", "accuracy=-1"):
        with pytest.raises(ValueError, match="NAME=VALUE"):
            parse_tolerances([bad])


def _run(version: str, **figures) -> Run:
    return Run(version, False, {"wall_s": 1.0, **figures}, exit_code=0)


def test_without_result_lines_the_last_lines_of_stdout_are_diffed_not_hashed():
    runs = [
        _run("before", stdout_tail="epoch 1\nepoch 2\ndone 0.93", stdout_sha256="a" * 64, stdout_bytes=10),
        _run("after", stdout_tail="epoch 1\nepoch 2\ndone 0.91", stdout_sha256="b" * 64, stdout_bytes=10),
    ]
    found = _results(runs, {})
    assert found["compared"] == "stdout" and found["same_result"] is False
    assert "-done 0.93" in found["stdout_diff"] and "+done 0.91" in found["stdout_diff"]
    assert "sha256" not in "\n".join(result_lines(found))
    assert stdout_diff("a\nb", "a\nb") == ""


def test_the_report_names_the_values_and_the_nondeterminism():
    runs = [
        _run("before", result_lines=["RESULT accuracy=0.940"]),
        _run("before", result_lines=["RESULT accuracy=0.950"]),
        _run("before", result_lines=["RESULT accuracy=0.940"]),
        _run("after", result_lines=["RESULT accuracy=0.935"]),
    ]
    found = _results(runs, dict(RunSettings(tolerances=(("accuracy", 0.001),)).tolerances))
    assert found["same_result"] is False and found["nondeterministic"] == ["accuracy"]
    text = "\n".join(result_lines(found))
    assert "result changed: accuracy 0.940 -> 0.935 (-0.5%)" in text
    assert "nondeterministic: accuracy differed between runs of the same version" in text


def test_a_tolerance_that_names_no_result_value_is_pointed_out():
    runs = [
        _run("before", result_lines=["RESULT accuracy=0.940"]),
        _run("after", result_lines=["RESULT accuracy=0.940"]),
    ]
    found = _results(runs, {"acuracy": 0.01, "accuracy": 0.01})
    assert found["unused_tolerances"] == ["acuracy"]
    text = "\n".join(result_lines(found))
    assert "--tolerance acuracy: no RESULT value has that name, so it changed nothing" in text
    assert _results(runs, {"accuracy": 0.01})["unused_tolerances"] == []


def test_a_bad_tolerance_is_a_usage_error(tmp_path):
    import subprocess
    import sys

    (tmp_path / "plain.py").write_text("print('RESULT accuracy=1')\n")
    completed = subprocess.run(
        [sys.executable, "-m", "green_lint", "verify", "plain.py", "--tolerance", "accuracy=high"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert "--tolerance takes NAME=VALUE" in completed.stderr and "Traceback" not in completed.stderr
