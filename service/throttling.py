"""Sign-in throttling: a few free attempts, then delays that double, per account and (more
loosely) per client address. Accounts are counted separately, so an attack on one never
locks out another; after `login_max_failures_per_account` the account stays blocked until
its password is reset."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.base import utcnow
from db.repositories.throttles import ThrottleRepository
from service.settings import Settings

# A delay this long stands for "until an administrator resets the password".
LOCKED = timedelta(days=365 * 100)


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; retry in {retry_after} s")
        self.retry_after = retry_after


# The throttle table's key column holds 255 characters; a longer email or address (which a
# client chooses) is stored by its digest.
MAX_KEY_LENGTH = 255


def account_key(email: str) -> str:
    return _bounded(f"account:{email.strip().lower()}")


def address_key(address: str) -> str:
    return _bounded(f"address:{address}")


def _bounded(key: str) -> str:
    if len(key) <= MAX_KEY_LENGTH:
        return key
    kind = key.split(":", 1)[0]
    return f"{kind}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


@dataclass(frozen=True)
class ThrottlePolicy:
    free_per_account: int
    max_per_account: int
    free_per_address: int
    max_delay: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            free_per_account=settings.login_free_attempts_per_account,
            max_per_account=settings.login_max_failures_per_account,
            free_per_address=settings.login_free_attempts_per_address,
            max_delay=timedelta(seconds=settings.login_max_delay_seconds),
        )

    def delay(self, failures: int, *, free: int) -> timedelta:
        if failures < free:
            return timedelta(0)
        return min(timedelta(seconds=2 ** (failures - free)), self.max_delay)

    def _throttled(self, until: datetime, now: datetime) -> Throttled:
        wait = min(until - now, self.max_delay)
        return Throttled(retry_after=max(1, round(wait.total_seconds())))

    async def check_address(self, repository: ThrottleRepository, address: str) -> None:
        """Raise Throttled while the client address is blocked."""
        now = utcnow()
        for throttle in await repository.get_many([address]):
            if throttle.blocked_until is not None and throttle.blocked_until > now:
                raise self._throttled(throttle.blocked_until, now)

    async def count_attempt(self, repository: ThrottleRepository, account: str) -> None:
        """Count a sign-in attempt on `account` before its password is checked, so parallel
        guesses are counted too; raise Throttled (and count nothing) while it is blocked.
        A successful sign-in clears the count."""
        now = utcnow()
        failures, blocked_until = await repository.add_failure(account, now=now)
        if blocked_until is not None and blocked_until > now:
            raise self._throttled(blocked_until, now)
        if failures >= self.max_per_account:
            await repository.block(account, until=now + LOCKED)
        elif delay := self.delay(failures, free=self.free_per_account):
            await repository.block(account, until=now + delay)

    async def record_address_failure(self, repository: ThrottleRepository, address: str) -> None:
        now = utcnow()
        failures, _ = await repository.add_failure(address, now=now)
        if delay := self.delay(failures, free=self.free_per_address):
            await repository.block(address, until=now + delay)
