"""promtool unit tests generated for each SLO: the series, the cases and what each alert must do."""
