"""User preferences: per-user list settings and named views shared with everyone.

Configs name fields, so they go through the same policy as records: a field
the user may not read can neither be saved nor come back in a body.
"""

from collabadmin.prefs.routes import prefs_router

__all__ = ["prefs_router"]
