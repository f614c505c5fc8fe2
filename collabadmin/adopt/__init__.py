"""Serving a database as collabadmin finds it, with no code (`collabadmin serve`, no `--app`)."""
