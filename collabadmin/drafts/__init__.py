"""Drafts: changes staged apart from the live tables, reviewed, then published."""
