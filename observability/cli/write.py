"""``generate``: write what changed, delete what is no longer generated, report both."""

from __future__ import annotations

from dataclasses import dataclass, field

from observability.checks.base import Context


@dataclass
class Changes:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    def lines(self) -> list[str]:
        return [f"wrote {p}" for p in self.written] + [f"removed {p}" for p in self.removed]

    def summary(self, dry_run: bool) -> str:
        verb = "would change" if dry_run else "changed"
        return f"{verb} {len(self.written) + len(self.removed)} file(s), {self.unchanged} unchanged"


def write_artifacts(ctx: Context, dry_run: bool = False) -> Changes:
    changes = Changes()
    for path, text in ctx.files.items():
        if ctx.committed(path) == text:
            changes.unchanged += 1
            continue
        changes.written.append(ctx.shown(path))
        if not dry_run:
            target = ctx.root / ctx.shown(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    for path in ctx.committed_owned():
        if path not in ctx.files:
            changes.removed.append(ctx.shown(path))
            if not dry_run:
                (ctx.root / ctx.shown(path)).unlink()
    return changes
