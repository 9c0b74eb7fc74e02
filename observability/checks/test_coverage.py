"""alerts/test-coverage: every alert we generate has a promtool test asserting that it fires
(promtool itself cannot report this, prometheus#11848), and no test names an alert its rule
files lack (a test left behind by a rename)."""

from __future__ import annotations

from collections.abc import Iterator

from observability.catalog.source import SourceRef
from observability.checks.base import Check, Context
from observability.diagnostics import Level, Problem


def run(ctx: Context) -> Iterator[Problem]:
    defined: dict[str, set[str]] = {f.path: {r.alert for r in f.alerts} for f in ctx.rule_files}
    for rule_file in ctx.rule_files:
        for rule in rule_file.alerts:
            covered = any(
                rule.alert in t.firing and rule_file.path in t.rule_files for t in ctx.tests
            )
            if not covered:
                yield CHECK.problem(
                    rule.origin,
                    Level.WARNING,
                    f"{rule.what}: no promtool test asserts that it fires "
                    f"(add one to alerts/tests/{rule_file.service}.test.yml)",
                    rule_file.path,
                )
    for test in ctx.tests:
        known = set().union(*(defined.get(r, set()) for r in test.rule_files))
        for alert in sorted((test.firing | test.silent) - known):
            source = SourceRef(test.path, 1, str(ctx.root / ctx.shown(test.path)))
            yield Problem(
                source,
                CHECK.name,
                Level.WARNING,
                f"tests alert {alert}, which its rule files ({', '.join(test.rule_files)}) do not define",
                test.path,
            )


CHECK = Check("alerts/test-coverage", "every alert has a promtool test that makes it fire", run)
