"""The change log: what was written, by whom, and what a write based on an old version meets."""
