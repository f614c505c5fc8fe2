"""Log records as one JSON object a line, each carrying the request it belongs to.

The request id is the one :class:`~collabadmin.auth.middleware.RequestIdMiddleware`
gives a request (always the server's own, never a client's), echoed in
``X-Request-ID`` and written to every change-log entry the request causes. A
client's ``X-Request-ID`` of the safe format is logged apart, as
``client_request_id`` on the access line. :class:`~collabadmin.ops.http.RequestContextMiddleware`
puts it in :data:`REQUEST_ID`, a ``ContextVar``, so a record logged by any
module while the request is handled carries it without that module knowing
about requests. (The rejected alternative, a ``logging.LoggerAdapter`` per
request, would have to be passed down to every service.)

Records are formatted in the thread that logs them, so reading the
``ContextVar`` at format time sees the request being handled.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from contextvars import ContextVar
from typing import Any, Literal

__all__ = ["LOG_FORMATS", "REQUEST_ID", "JsonFormatter", "LogFormat", "configure_logging"]

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"

REQUEST_ID: ContextVar[str | None] = ContextVar("collabadmin_request_id", default=None)

# Attributes every LogRecord has; anything else was passed with ``extra=`` and
# is written as a field of its own (e.g. the access log's status and route).
_STANDARD = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            body["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in body:
                body[key] = value
        if record.exc_info:
            exc_type = record.exc_info[0]
            body["exc_type"] = exc_type.__name__ if exc_type is not None else None
            body["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            body["exc_info"] = record.exc_text
        if record.stack_info:
            body["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(body, default=str, ensure_ascii=False)


def configure_logging(log_format: str, stream: Any = None) -> logging.Handler:
    """Send every record to stderr (or ``stream``) in ``log_format``; returns the handler.

    Text keeps the terminal quiet (warnings and errors only). JSON is for log
    collectors: collabadmin's own records from INFO, which includes one
    access line per HTTP request (logger ``collabadmin.access``).
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("collabadmin").setLevel(
        logging.INFO if log_format == "json" else logging.NOTSET
    )
    return handler
