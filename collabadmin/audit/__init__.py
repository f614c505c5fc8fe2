"""The change log: reading it, per record and (later) across the database."""

from collabadmin.audit.changes import CHANGE_LOG, change_body, record_history

__all__ = ["CHANGE_LOG", "change_body", "record_history"]
