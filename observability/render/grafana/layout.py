"""Placing panels on Grafana's 24-column grid: a row header per section, then the section's
panels left to right, wrapping to a new line when the next one does not fit."""

from __future__ import annotations

from dataclasses import dataclass

import grafanalib.core as G

COLUMNS = 24
ROW_HEIGHT = 1


@dataclass
class Grid:
    x: int = 0
    y: int = 0
    line_height: int = 0

    def _new_line(self) -> None:
        self.y += self.line_height
        self.x, self.line_height = 0, 0

    def row(self) -> G.GridPos:
        """A full-width row header below everything placed so far."""
        if self.x:
            self._new_line()
        pos = G.GridPos(h=ROW_HEIGHT, w=COLUMNS, x=0, y=self.y)
        self.y += ROW_HEIGHT
        return pos

    def place(self, width: int, height: int) -> G.GridPos:
        if not 0 < width <= COLUMNS:
            raise ValueError(f"a panel is 1 to {COLUMNS} columns wide, not {width}")
        if self.x + width > COLUMNS:
            self._new_line()
        pos = G.GridPos(h=height, w=width, x=self.x, y=self.y)
        self.x += width
        self.line_height = max(self.line_height, height)
        return pos
