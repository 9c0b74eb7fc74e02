"""Alert-window tables (Sloth AlertWindows YAML), read with importlib.resources."""
