"""``reviewer rules`` (the rule list, ``rules test``) and ``reviewer principles``."""

from __future__ import annotations

import click

from reviewer.cli.pipeline import taught_listing


@click.group(invoke_without_command=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text"
)
@click.pass_context
def rules(ctx: click.Context, fmt: str) -> None:
    """List the rules with their metadata (`reviewer rules test` runs their examples)."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from reviewer.rules import all_rules

    if fmt == "markdown":  # docs/rules.md
        from reviewer.report.rules_doc import render_rules_markdown

        click.echo(render_rules_markdown(), nl=False)
        return

    metas = [cls.metadata() for cls in all_rules().values()]
    if fmt == "json":
        click.echo(json.dumps(metas + taught_listing("json"), indent=2))
        return
    for m in metas:
        counter = ", ".join(f"{k} {v}" for k, v in m["counterparts"].items())
        fix = " [fix]" if m["fixable"] else ""
        click.echo(f"{m['id']}  {m['slug']:<32} {m['severity']:<6} {m['summary']}{fix}")
        also = f"; also: {counter}" if counter else ""
        click.echo(f"       principle: {m['principle']}{also}")
    for line in taught_listing("text"):
        click.echo(line)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def principles(fmt: str) -> None:
    """List the principle catalogue and the rules that enforce each principle."""
    import json

    from reviewer.principles import catalogue, checks_by_principle, describe, format_text

    checks = checks_by_principle()
    entries = [describe(p, checks.get(p.id, ())) for p in catalogue().values()]
    text = json.dumps(entries, indent=2) + "\n" if fmt == "json" else format_text(entries)
    click.echo(text, nl=False)


@rules.command("test")
@click.option("-v", "--verbose", is_flag=True, help="List every example.")
def rules_test(verbose: bool) -> None:
    """Run every rule's embedded VALID and INVALID examples."""
    from reviewer.rules import all_rules
    from reviewer.rules.testing import run_examples

    failed = total = 0
    for cls in all_rules().values():
        for res in run_examples(cls):
            total += 1
            if not res.ok:
                failed += 1
                click.echo(f"FAIL {res.rule_id} {res.kind}[{res.index}]: {res.detail}")
            elif verbose:
                click.echo(f"ok   {res.rule_id} {res.kind}[{res.index}]")
    click.echo(f"{total - failed} passed, {failed} failed")
    raise SystemExit(1 if failed else 0)


