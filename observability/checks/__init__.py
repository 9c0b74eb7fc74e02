"""Checks, pint-style: one module per check, a registry, one doc page per check in ``docs/``.

A check is ``Check(name, summary, run)``; ``run(ctx)`` yields ``Problem``s naming the catalog
definition at fault (module:line) and the artifact the problem shows in.
"""
