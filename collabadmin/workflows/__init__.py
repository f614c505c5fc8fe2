"""Workflow checklists: definitions declared in Python (runs arrive with the workflow engine)."""

from collabadmin.workflows.definitions import Step, Workflow

__all__ = ["Step", "Workflow"]
