"""The call gate shared by every worker and replica, in Redis.

Per credential, under one hash tag (`{…}`, so a cluster keeps them on one node), with Redis's own
clock (replicas' clocks do not matter), each key expiring on its own:

| key           | type       | holds                                                        |
| ------------- | ---------- | ------------------------------------------------------------ |
| `…:requests`  | sorted set | one member per request of the last minute, scored by its time |
| `…:tokens`    | hash       | second → tokens reported then, for the last minute           |
| `…:held`      | sorted set | permits of calls in flight, scored by when their lease ends  |
| `…:pause`     | string     | when the provider's pause ends                               |
| `…:breaker`   | hash       | open-until, trial-until, consecutive failures, window buckets |

Acquiring checks and takes everything in one Lua script (one round trip, atomic); releasing is
another. A permit held by a process that died leaves `held` when its lease ends
(`LEASE_SECONDS`, renewed while the call lasts, as the tenant leases are).

Redis that does not answer: the process counts its share of every limit (`share`: the limit
divided by the fleet's processes, at least 1) and its own breaker (`LocalCallGate`), tries Redis
again after a second, and logs one warning per outage. Pauses and breaker state learnt meanwhile
stay in the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Sequence

import redis.asyncio as redis
import structlog
from redis.exceptions import RedisError

from integration_api.cache.redis_outage import RedisOutage
from integration_api.credentials.call_gate import (
    BreakerState,
    CallResult,
    GatePolicy,
    Permit,
    circuit_open,
    rate_limited,
)
from integration_api.credentials.local_gate import CONCURRENCY_RETRY_SECONDS, LocalCallGate
from integration_api.credentials.model import CredentialLimits

log = structlog.get_logger("integration_api.cache")

LEASE_SECONDS = 60.0

_NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
"""

# KEYS: requests, tokens, held, pause, breaker.
# ARGV: rpm, tpm, concurrent, permit id, lease seconds, trial seconds.
# Returns {verdict, seconds}: 'ok' (seconds 1 for a trial), 'paused', 'rpm', 'tpm', 'held', 'open'.
_ACQUIRE = (
    _NOW
    + """
local rpm, tpm, conc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local pause = tonumber(redis.call('GET', KEYS[4]) or '0')
if pause > now then return {'paused', tostring(pause - now)} end
local trial = 0
local b = redis.call('HMGET', KEYS[5], 'open_until', 'trial_until')
if b[1] then
  local open_until = tonumber(b[1])
  if open_until > now then return {'open', tostring(open_until - now)} end
  local trial_until = tonumber(b[2] or '0')
  if trial_until > now then return {'open', tostring(trial_until - now)} end
  trial = 1
end
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60)
  local count = redis.call('ZCARD', KEYS[1])
  if count >= rpm then
    local leaving = redis.call('ZRANGE', KEYS[1], count - rpm, count - rpm, 'WITHSCORES')
    return {'rpm', tostring(tonumber(leaving[2]) + 60 - now)}
  end
end
if tpm > 0 then
  local buckets = redis.call('HGETALL', KEYS[2])
  local used, seconds = 0, {}
  for i = 1, #buckets, 2 do
    local second = tonumber(buckets[i])
    if second <= now - 60 then
      redis.call('HDEL', KEYS[2], buckets[i])
    else
      used = used + tonumber(buckets[i + 1])
      table.insert(seconds, {second, tonumber(buckets[i + 1])})
    end
  end
  if used >= tpm then
    table.sort(seconds, function(a, b) return a[1] < b[1] end)
    local free_at = now
    for _, entry in ipairs(seconds) do
      used = used - entry[2]
      free_at = entry[1] + 1
      if used < tpm then break end
    end
    return {'tpm', tostring(free_at + 60 - now)}
  end
end
if conc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= conc then return {'held', '0'} end
end
if rpm > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('EXPIRE', KEYS[1], 61)
end
if conc > 0 then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[5]), ARGV[4])
  redis.call('EXPIRE', KEYS[3], math.ceil(tonumber(ARGV[5])) + 1)
end
if trial == 1 then
  redis.call('HSET', KEYS[5], 'trial_until', now + tonumber(ARGV[6]))
end
return {'ok', tostring(trial)}
"""
)

# KEYS: tokens, held, pause, breaker.
# ARGV: permit id, tokens, pause seconds, verdict, trial (0/1), consecutive failures, window
# seconds, min calls, failure ratio, open seconds, bucket seconds.
_RELEASE = (
    _NOW
    + """
redis.call('ZREM', KEYS[2], ARGV[1])
local tokens = tonumber(ARGV[2])
if tokens > 0 then
  redis.call('HINCRBY', KEYS[1], tostring(math.floor(now)), tokens)
  redis.call('EXPIRE', KEYS[1], 61)
end
local pause = tonumber(ARGV[3])
if pause > 0 then
  local ends = now + pause
  if ends > tonumber(redis.call('GET', KEYS[3]) or '0') then
    redis.call('SET', KEYS[3], tostring(ends), 'PX', math.ceil(pause * 1000) + 1000)
  end
end
local verdict, trial = ARGV[4], ARGV[5] == '1'
local threshold, window, min_calls = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local ratio, open_seconds = tonumber(ARGV[9]), tonumber(ARGV[10])
local bucket_seconds = tonumber(ARGV[11])
local keep = math.ceil(open_seconds + window) + 60
local function open()
  redis.call('DEL', KEYS[4])
  redis.call('HSET', KEYS[4], 'open_until', now + open_seconds)
  redis.call('EXPIRE', KEYS[4], keep)
  return 'opened'
end
if threshold == 0 then return 'ok' end
if verdict == 'neutral' then
  if trial then redis.call('HDEL', KEYS[4], 'trial_until') end
  return 'ok'
end
if verdict == 'success' and (trial or redis.call('HEXISTS', KEYS[4], 'open_until') == 1) then
  redis.call('DEL', KEYS[4])
  return 'closed'
end
if verdict == 'failure' and trial then return open() end
local bucket = math.floor(now / bucket_seconds) * bucket_seconds
local fields = redis.call('HGETALL', KEYS[4])
local calls, failures = 0, 0
for i = 1, #fields, 2 do
  local kind, start = string.match(fields[i], '^([cf]):(%d+)$')
  if kind then
    if tonumber(start) <= bucket - window then
      redis.call('HDEL', KEYS[4], fields[i])
    elseif kind == 'c' then calls = calls + tonumber(fields[i + 1])
    else failures = failures + tonumber(fields[i + 1]) end
  end
end
redis.call('HINCRBY', KEYS[4], 'c:' .. bucket, 1)
calls = calls + 1
local consecutive = 0
if verdict == 'failure' then
  redis.call('HINCRBY', KEYS[4], 'f:' .. bucket, 1)
  failures = failures + 1
  consecutive = redis.call('HINCRBY', KEYS[4], 'consecutive', 1)
else
  redis.call('HSET', KEYS[4], 'consecutive', 0)
end
redis.call('EXPIRE', KEYS[4], keep)
if verdict == 'failure' and (consecutive >= threshold
    or (calls >= min_calls and failures >= ratio * calls)) then
  return open()
end
return 'ok'
"""
)

# KEYS: each credential's breaker; returns 'closed', 'open' or 'half_open' for each.
_STATES = (
    _NOW
    + """
local states = {}
for i, key in ipairs(KEYS) do
  local open_until = redis.call('HGET', key, 'open_until')
  if not open_until then states[i] = 'closed'
  elseif tonumber(open_until) > now then states[i] = 'open'
  else states[i] = 'half_open' end
end
return states
"""
)

# KEYS[1]: a credential's held set; ARGV: lease seconds, then the permits this process holds.
_RENEW = (
    _NOW
    + """
local lease = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', 'GT', now + lease, ARGV[i]) end
redis.call('EXPIRE', KEYS[1], math.ceil(lease) + 1)
return 1
"""
)


class RedisCallGate:
    """`CallGate` on Redis, with this process's share (`LocalCallGate`) while Redis is down."""

    def __init__(
        self,
        client: redis.Redis,
        key_prefix: str,
        *,
        share: int = 1,
        policy: GatePolicy | None = None,
        lease_seconds: float = LEASE_SECONDS,
        max_connections: int = 50,
    ) -> None:
        self._client = client
        self._prefix = key_prefix
        self._policy = policy or GatePolicy()
        self._lease = lease_seconds
        self._local = LocalCallGate(self._policy, share=share)
        self._connections = asyncio.Semaphore(max(1, max_connections))
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._states = client.register_script(_STATES)
        self._renew = client.register_script(_RENEW)
        self._held: dict[str, set[str]] = {}  # credential id → permits held with a lease
        self._outage = RedisOutage(
            falls_back="redis unavailable; credential limits and breakers fall back to this "
            "process's share",
            recovers="redis answers again; credential limits and breakers are fleet-wide again",
        )
        self._renewer: asyncio.Task[None] | None = None

    def _keys(self, credential_id: str) -> dict[str, str]:
        base = f"{self._prefix}gate:{{{credential_id}}}"
        names = ("requests", "tokens", "held", "pause", "breaker")
        return {name: f"{base}:{name}" for name in names}

    async def acquire(self, credential_id: str, limits: CredentialLimits) -> Permit:
        if self._outage.resting:
            return await self._local.acquire(credential_id, limits)
        keys = self._keys(credential_id)
        permit_id = secrets.token_hex(8)
        args: list[str | int | float] = [
            limits.requests_per_minute,
            limits.tokens_per_minute,
            limits.concurrent_calls,
            permit_id,
            self._lease,
            self._policy.trial_seconds,
        ]
        try:
            async with self._connections:
                verdict, seconds = await self._acquire(keys=list(keys.values()), args=args)
        except RedisError as error:
            self._outage.failed(error)
            return await self._local.acquire(credential_id, limits)
        self._outage.answered()
        return self._permit_or_refusal(
            credential_id, permit_id, _text(verdict), float(seconds), limits
        )

    def _permit_or_refusal(
        self,
        credential_id: str,
        permit_id: str,
        verdict: str,
        seconds: float,
        limits: CredentialLimits,
    ) -> Permit:
        if verdict == "ok":
            if limits.concurrent_calls:
                self._held.setdefault(credential_id, set()).add(permit_id)
                self._start_renewing()
            return Permit(credential_id, permit_id, trial=seconds == 1)
        if verdict == "open":
            raise circuit_open(seconds)
        what = {
            "paused": "provider_pause",
            "rpm": "requests_per_minute",
            "tpm": "tokens_per_minute",
            "held": "concurrent_calls",
        }[verdict]
        raise rate_limited(seconds if verdict != "held" else CONCURRENCY_RETRY_SECONDS, what)

    async def release(self, permit: Permit, result: CallResult) -> None:
        if permit.local:
            await self._local.release(permit, result)
            return
        held = self._held.get(permit.credential_id)
        if held is not None:
            held.discard(permit.id)
            if not held:
                del self._held[permit.credential_id]
        keys = self._keys(permit.credential_id)
        policy = self._policy
        args: list[str | int | float] = [
            permit.id,
            result.tokens,
            policy.pause(result.pause_seconds),
            result.verdict,
            1 if permit.trial else 0,
            policy.consecutive_failures,
            policy.window_seconds,
            policy.min_calls,
            policy.failure_ratio,
            policy.open_seconds,
            5,
        ]
        try:
            async with self._connections:
                await self._release(
                    keys=[keys["tokens"], keys["held"], keys["pause"], keys["breaker"]],
                    args=args,
                )
        except RedisError as error:
            # The call is over: what it would have counted is lost, its permit's lease ends.
            self._outage.failed(error)
            await self._local.release(permit, result)

    async def breaker_states(self, credential_ids: Sequence[str]) -> dict[str, BreakerState]:
        if not credential_ids:
            return {}
        keys = [self._keys(credential_id)["breaker"] for credential_id in credential_ids]
        try:
            async with self._connections:
                answers = await self._states(keys=keys, args=[])
        except RedisError as error:
            self._outage.failed(error)
            return await self._local.breaker_states(credential_ids)
        states: dict[str, BreakerState] = {}
        for credential_id, answer in zip(credential_ids, answers, strict=True):
            state = _text(answer)
            if state == "open":
                states[credential_id] = "open"
            elif state == "half_open":
                states[credential_id] = "half_open"
        return states

    def _start_renewing(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())

    async def _renew_forever(self) -> None:
        while self._held:
            await asyncio.sleep(self._lease / 3)
            await self.renew()

    async def renew(self) -> None:
        """Pushes back the lease of every permit this process holds."""
        try:
            async with self._connections, self._client.pipeline(transaction=False) as pipe:
                for credential_id, permits in list(self._held.items()):
                    key = self._keys(credential_id)["held"]
                    await self._renew(keys=[key], args=[self._lease, *permits], client=pipe)
                await pipe.execute()
        except RedisError as error:
            self._outage.failed(error)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self._client.aclose()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
