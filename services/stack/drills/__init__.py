"""Fire drills: every covered alert raised by its real fault on the local stack and followed
like an on-call engineer would (``fleet-stack drill``, ``make drill``)."""
