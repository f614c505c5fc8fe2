"""Broker mode: the change stream and presence through NATS JetStream.

Off unless ``COLLABADMIN_BROKER`` names a NATS server (see docs/realtime.md,
"Broker mode"). Needs the ``broker`` extra (``pip install
'collabadmin[broker]'``, which brings nats-py); nothing here is imported
without it, so this package's modules import ``nats`` at their top.
"""
