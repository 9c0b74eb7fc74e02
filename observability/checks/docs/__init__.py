"""One Markdown page per check (pint style), read by `dashboard-gen lint --explain`."""
