"""What stands between an unauthenticated caller and a password check.

One per app: the attempt :class:`~collabadmin.auth.throttle.Throttle` (shared
by every server instance through the database) and the
:class:`~collabadmin.auth.passwords.PasswordSlots` of this process.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from collabadmin.auth.passwords import PasswordSlots
from collabadmin.auth.throttle import Throttle
from collabadmin.settings import Settings

__all__ = ["LoginGuard"]


@dataclass(frozen=True, slots=True)
class LoginGuard:
    throttle: Throttle
    slots: PasswordSlots

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginGuard:
        return cls(
            Throttle(
                pair_limit=settings.login_pair_limit,
                address_limit=settings.login_address_limit,
                account_limit=settings.login_account_limit,
                account_interval=dt.timedelta(seconds=settings.login_account_interval),
            ),
            PasswordSlots(settings.password_concurrency),
        )
