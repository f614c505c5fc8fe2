"""Operating collabadmin: Prometheus metrics, structured logs, CLI progress.

- :mod:`collabadmin.ops.metrics`: the per-app registry and its instruments;
- :mod:`collabadmin.ops.http`: request timing, the access log, ``/metrics``;
- :mod:`collabadmin.ops.logs`: JSON log records carrying the request id;
- :mod:`collabadmin.ops.progress`: progress bars for long CLI work.

Nothing is imported here, so the CLI can configure logging without loading
the web stack. docs/operations.md says what each metric means.
"""
