"""Bulk edits of records: ``POST /api/r/{resource}/bulk``, and the jobs that run the long ones."""
