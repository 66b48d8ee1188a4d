"""Prime factors and divisors of large integers, in bounded time (Miller-Rabin, Pollard-Brent)."""

from __future__ import annotations

import functools
from math import gcd, isqrt

_RHO_BUDGET = 50_000
"""Pollard-rho steps spent factorising one number before a search falls back to scanning."""

_MAX_DIVISORS = 1 << 16
"""Divisors listed at most; a number with more is searched by scanning near the wanted end."""

_SMALL_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)


def _is_prime(n: int) -> bool:
    """Miller-Rabin with the first 13 primes as bases: exact below 3.3e24, all but certain above."""
    if n < 2:
        return False
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in _SMALL_PRIMES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _rho(n: int, budget: int) -> tuple[int | None, int]:
    """A non-trivial factor of the composite odd n by Pollard-Brent, and the steps it took."""
    used = 0
    for c in range(1, 20):
        y, m, g, r, q = 2, 128, 1, 1, 1
        x = ys = y
        while g == 1:
            x = y
            for _ in range(r):
                y = (y * y + c) % n
            k = 0
            while k < r and g == 1:
                ys = y
                for _ in range(min(m, r - k)):
                    y = (y * y + c) % n
                    q = q * abs(x - y) % n
                g = gcd(q, n)
                k += m
            used += r
            r *= 2
            if used > budget:
                return None, used
        if g == n:
            g = 1
            while g == 1:
                ys = (ys * ys + c) % n
                g = gcd(abs(x - ys), n)
        if g != n:
            return g, used
    return None, used


def factorise(m: int, *, budget: int = _RHO_BUDGET) -> dict[int, int] | None:
    """The prime factors of m >= 1 with their powers, or None when that takes more than `budget` steps."""
    factors: dict[int, int] = {}
    for p in (2, 3, 5, 7, 11, 13):
        while m % p == 0:
            factors[p] = factors.get(p, 0) + 1
            m //= p
    stack = [m] if m > 1 else []
    while stack:
        n = stack.pop()
        if _is_prime(n):
            factors[n] = factors.get(n, 0) + 1
            continue
        root = isqrt(n)
        if root * root == n:
            stack += [root, root]
            continue
        d, used = _rho(n, budget)
        budget -= used
        if d is None:
            return None
        stack += [d, n // d]
    return factors


@functools.lru_cache(maxsize=256)
def divisors(m: int, *, limit: int = _MAX_DIVISORS) -> tuple[int, ...] | None:
    """Every divisor of m >= 1 in increasing order, from its factorisation (never by trial division),
    or None when m cannot be factorised within the budget or has more than `limit` divisors."""
    factors = factorise(m)
    if factors is None:
        return None
    count = 1
    for e in factors.values():
        count *= e + 1
    if count > limit:
        return None
    found = [1]
    for p, e in factors.items():
        found = [d * p**k for d in found for k in range(e + 1)]
    return tuple(sorted(found))


def near_divisors(m: int, g: int) -> list[int]:
    """The two divisors of m nearest to g, from its factorisation; when it cannot be factorised in time,
    the divisors within a bounded scan around g, and 1 and m themselves."""
    listed = divisors(m)
    if listed is None:
        span = range(max(1, g - (1 << 16)), min(m, g + (1 << 16)) + 1)
        listed = (1, m, *(d for d in span if m % d == 0))
    valid = sorted(set(listed))
    return sorted(sorted(valid, key=lambda d: (abs(d - g), d))[:2])
