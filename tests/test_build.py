"""The build identity the cache is kept under: the same for the same code, another for
other code with the same version number."""

from __future__ import annotations

import os

from green_lint import __version__
from green_lint.build import build_id, installed_code_digest, source_digest

RECORD = """\
green_lint/__init__.py,sha256=AAAA,10
green_lint/engine.py,sha256=BBBB,20
green_lint/rules/python_numeric_loop.py,sha256=CCCC,30
green_lint/__pycache__/engine.cpython-311.pyc,sha256=DDDD,40
green_lint-0.1.0.dist-info/METADATA,sha256=EEEE,50
green_lint-0.1.0.dist-info/RECORD,,
"""


def _site(tmp_path, name: str, record: str):
    site = tmp_path / name
    info = site / "green_lint-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "RECORD").write_text(record, encoding="utf-8")
    return site


def test_installs_of_the_same_code_share_an_identity_and_other_code_does_not(tmp_path):
    same = installed_code_digest(_site(tmp_path, "a", RECORD), "0.1.0")
    assert same is not None
    # Installed again: compiled files and metadata differ, and lines come in another order.
    again = RECORD.replace("DDDD", "dddd").replace("EEEE", "eeee")
    again = "\n".join(reversed(again.splitlines()))
    assert installed_code_digest(_site(tmp_path, "b", again), "0.1.0") == same
    # One rule edited, the version number unchanged.
    edited = RECORD.replace("sha256=CCCC,30", "sha256=CCCX,31")
    assert installed_code_digest(_site(tmp_path, "c", edited), "0.1.0") != same


def test_an_install_without_a_record_of_its_code_has_no_installed_digest(tmp_path):
    assert installed_code_digest(tmp_path, "0.1.0") is None  # no dist-info at all
    editable = "__editable__.green_lint-0.1.0.pth,sha256=AAAA,10\ngreen_lint-0.1.0.dist-info/RECORD,,\n"
    assert installed_code_digest(_site(tmp_path, "editable", editable), "0.1.0") is None


def test_editing_a_file_of_a_source_checkout_changes_its_identity(tmp_path):
    engine, rules = tmp_path / "green_lint", tmp_path / "rules"
    for folder in (engine, rules):
        folder.mkdir()
        (folder / "__init__.py").write_text("", encoding="utf-8")
    rule = rules / "a_rule.py"
    rule.write_text("MESSAGE = 'old'\n", encoding="utf-8")
    before = source_digest([engine, rules])
    assert source_digest([engine, rules]) == before
    rule.write_text("MESSAGE = 'new'\n", encoding="utf-8")
    os.utime(rule, ns=(0, rule.stat().st_mtime_ns + 1_000_000_000))
    assert source_digest([engine, rules]) != before


def test_the_identity_names_the_version():
    assert build_id().startswith(f"{__version__}+")
    assert len(build_id()) == len(__version__) + 1 + 16
