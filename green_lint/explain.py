"""`green-lint rule CODE` and `green-lint rules`: the rule pack's own documentation."""

from __future__ import annotations

import json

import typer

from green_lint.errors import UsageProblem
from green_lint.registry import SelectionError, all_rules, rule_by_code
from green_lint.rule import Rule


def rule_status(rule: type[Rule]) -> str:
    if rule.preview:
        return "preview"
    if not rule.default_enabled:
        return "off by default"
    return "on"


def fix_label(rule: type[Rule]) -> str:
    return {"safe": "safe fix", "unsafe": "unsafe fix"}.get(rule.fix_safety or "", "no fix")


def rule_markdown(rule: type[Rule]) -> str:
    header = (
        f"# {rule.code} {rule.name}\n\n"
        f"{rule.summary}.\n\n"
        f"Fix: {fix_label(rule)}. Severity: {rule.severity}. Status: {rule_status(rule)}.\n"
    )
    if rule.options:
        options = ", ".join(f"`{name}` (default {value!r})" for name, value in rule.options.items())
        header += f"Options under `[tool.green-lint.rules.{rule.code}]`: {options}.\n"
    return f"{header}\n{rule.docs()}\n"


def explain_rule(code: str) -> int:
    try:
        rule = rule_by_code(code)
    except SelectionError as error:
        raise UsageProblem(str(error)) from None
    typer.echo(rule_markdown(rule), nl=False)
    return 0


def rule_summary_json(rule: type[Rule]) -> dict:
    return {
        "code": rule.code,
        "name": rule.name,
        "summary": rule.summary,
        "severity": rule.severity,
        "fix": rule.fix_safety,
        "status": rule_status(rule),
        "options": dict(rule.options),
        "url": rule.url(),
        "docs": rule.docs(),
    }


def list_rules(output_format: str) -> int:
    rules = all_rules()
    if output_format == "json":
        typer.echo(json.dumps([rule_summary_json(rule) for rule in rules], indent=2))
        return 0
    if output_format != "full":
        raise UsageProblem(f"unknown output format {output_format!r} for `rules`; use full or json")
    name_width = max(len(rule.name) for rule in rules)
    for rule in rules:
        status = "" if rule_status(rule) == "on" else f" [{rule_status(rule)}]"
        typer.echo(f"{rule.code}  {rule.name:<{name_width}}  {fix_label(rule):<10}  {rule.summary}{status}")
    return 0
