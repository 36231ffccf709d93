"""Checks of config fields, shared by the config dataclasses (agent, search, network).

Every check raises ValueError with one message form, '<Owner>.<field>=<value> is not allowed;
allowed: <what is>.', so that a bad value reads the same whichever config holds it. Wrong types
are ValueErrors too: a value parsed from the command line (`--config_overrides`) is checked by
the same code, and the launcher reports ValueErrors as bad input. This package imports nothing
of ours, so that `search` and `networks` may use it.
"""

import math
from typing import Any, Sequence


def fail(owner: str, field: str, value: Any, allowed: str) -> None:
  """Raises the ValueError naming `owner.field`, its bad `value` and what is `allowed`."""
  raise ValueError(f'{owner}.{field}={value!r} is not allowed; allowed: {allowed}.')


def is_finite_number(value: Any) -> bool:
  """A finite int or float (not a bool)."""
  return (isinstance(value, (int, float)) and not isinstance(value, bool) and
          math.isfinite(value))


def check_int(owner: str, field: str, value: Any, minimum: int) -> None:
  """`value` is an int (not a bool) >= minimum."""
  if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
    fail(owner, field, value, f'an int >= {minimum}')


def check_number(owner: str, field: str, value: Any, low: float, high: float,
                 low_open: bool = False, high_open: bool = False) -> None:
  """`value` is an int or float (not a bool, not NaN) in the interval from low to high, each end
  closed unless said open; an open infinite end admits every finite number."""
  interval = f'{"(" if low_open else "["}{low}, {high}{")" if high_open else "]"}'
  if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
    fail(owner, field, value, f'a number in {interval}')
  too_low = value <= low if low_open else value < low
  too_high = value >= high if high_open else value > high
  if too_low or too_high:
    fail(owner, field, value, f'a number in {interval}')


def check_choice(owner: str, field: str, value: Any, allowed: Sequence[Any]) -> None:
  """`value` is one of `allowed`."""
  if value not in allowed:
    fail(owner, field, value, f'one of {tuple(allowed)}')


def check_bool(owner: str, field: str, value: Any) -> None:
  """`value` is a bool (1 and 0 are not)."""
  if not isinstance(value, bool):
    fail(owner, field, value, 'True or False')
