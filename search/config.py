"""Configuration of the batched MuZero search: one validated dataclass, the paper's defaults."""

import dataclasses
import math
from typing import Optional, Tuple

# Q of unvisited children in pUCT. 'minimum' is the paper's pseudocode: such a child scores 0
# after min-max normalisation, i.e. as the worst Q (with known bounds [-1, 1], a loss). With few
# simulations that makes the search follow the prior's first choice and hardly try the others.
# 'parent' takes the parent's network value instead, as Gumbel MuZero completes the Q of
# unvisited actions with a value estimate (Danihelka et al. 2022, "Policy improvement by planning
# with Gumbel"); a child is then tried when its prior bonus beats the visited children's edge
# over that value.
UNVISITED_Q = ('minimum', 'parent')

# How the search explores and what it returns (as mctx offers `muzero_policy` and
# `gumbel_muzero_policy`). 'muzero': pUCT everywhere, Dirichlet noise at the root, the visit
# distribution as the policy target and an action sampled from the visits. 'gumbel': Gumbel
# MuZero (Danihelka et al. 2022, "Policy improvement by planning with Gumbel", ICLR), see
# `search.gumbel`.
SEARCH_POLICIES = ('muzero', 'gumbel')


@dataclasses.dataclass(frozen=True)
class SearchConfig:
  """Everything that shapes one search; fixed for the lifetime of a compiled search function.

  The config is hashable so that compiled functions can be cached per (network, config): a new
  config means a new trace, while values that change from move to move (observations, legal
  actions, seed, temperature) are passed as tensors and never cause a retrace.

  Attributes:
    num_simulations: Simulations per search; the tree holds num_simulations + 1 nodes.
    discount: Discount applied to values backed up through each edge of the tree.
    pb_c_init: c1 of the paper's pUCT rule.
    pb_c_base: c2 of the paper's pUCT rule.
    dirichlet_alpha: Concentration of the Dirichlet noise mixed into the root prior.
    dirichlet_fraction: Weight of that noise in the root prior (the paper's exploration fraction).
    add_noise: Whether to mix Dirichlet noise into the root prior (self-play: yes; evaluation:
      no).
    two_player: Two-player zero-sum game with alternating turns: values are negated at every level
      of the tree (see `search.tree.Tree` for the sign convention).
    value_bounds: Known (minimum, maximum) of Q, used to start the min-max normalisation (the
      paper's KnownBounds, (-1, 1) for board games); None learns the bounds from the tree alone.
    temperature: Default visit-count temperature for the selected action: 0 picks the most
      visited action, T > 0 samples from N(a)^(1/T). A per-call temperature overrides it.
    unvisited_q: What pUCT takes for the Q of a child not visited yet (see `UNVISITED_Q`):
      'minimum', the paper's rule, scores it 0 after normalisation, the worst Q; 'parent' takes
      the network value of its parent, seen by the same player. Gumbel completes them with its
      mixed value instead and ignores this field.
    search_policy: 'muzero' or 'gumbel' (see `SEARCH_POLICIES`). With 'gumbel', `add_noise`
      turns the root's Gumbel noise on or off (no Dirichlet noise), and the temperature is not
      used: the search plays the action that survived sequential halving.
    max_num_considered_actions: Gumbel: m, the root actions sampled without replacement by
      Gumbel-top-k and compared by sequential halving (the paper's and mctx's default 16).
    gumbel_c_visit: Gumbel: c_visit of sigma(q) = (c_visit + max_b N(b)) c_scale q (paper: 50).
    gumbel_c_scale: Gumbel: c_scale of sigma (paper: 1.0; mctx's `value_scale` defaults to 0.1).
  """

  num_simulations: int = 50
  discount: float = 0.997
  pb_c_init: float = 1.25
  pb_c_base: float = 19652.0
  dirichlet_alpha: float = 0.25
  dirichlet_fraction: float = 0.25
  add_noise: bool = True
  two_player: bool = False
  value_bounds: Optional[Tuple[float, float]] = None
  temperature: float = 1.0
  unvisited_q: str = 'minimum'
  search_policy: str = 'muzero'
  max_num_considered_actions: int = 16
  gumbel_c_visit: float = 50.0
  gumbel_c_scale: float = 1.0

  def __post_init__(self):
    for field in ('num_simulations', 'max_num_considered_actions'):
      value = getattr(self, field)
      if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f'SearchConfig.{field} must be an int, got {value!r} '
                        f'({type(value).__name__}).')
      if value < 1:
        raise ValueError(f'SearchConfig.{field} = {value} is out of range; '
                         f'allowed: {field} >= 1.')
    _check_range('discount', self.discount, 0.0, 1.0)
    _check_positive('pb_c_init', self.pb_c_init)
    _check_positive('pb_c_base', self.pb_c_base)
    _check_positive('dirichlet_alpha', self.dirichlet_alpha)
    _check_range('dirichlet_fraction', self.dirichlet_fraction, 0.0, 1.0)
    _check_range('gumbel_c_visit', self.gumbel_c_visit, 0.0, math.inf)
    _check_positive('gumbel_c_scale', self.gumbel_c_scale)
    if not (_is_finite_number(self.temperature) and self.temperature >= 0):
      raise ValueError(f'SearchConfig.temperature = {self.temperature!r} is out of range; '
                       'allowed: finite temperature >= 0.')
    if self.unvisited_q not in UNVISITED_Q:
      raise ValueError(f'SearchConfig.unvisited_q = {self.unvisited_q!r} is not allowed; '
                       f'allowed: {UNVISITED_Q}.')
    if self.search_policy not in SEARCH_POLICIES:
      raise ValueError(f'SearchConfig.search_policy = {self.search_policy!r} is not allowed; '
                       f'allowed: {SEARCH_POLICIES}.')
    for flag in ('add_noise', 'two_player'):
      if not isinstance(getattr(self, flag), bool):
        raise TypeError(f'SearchConfig.{flag} must be a bool, got {getattr(self, flag)!r}.')
    if self.value_bounds is not None:
      bounds = tuple(self.value_bounds)
      if (len(bounds) != 2 or not all(_is_finite_number(bound) for bound in bounds) or
          not bounds[0] < bounds[1]):
        raise ValueError(f'SearchConfig.value_bounds = {self.value_bounds!r} is invalid; allowed: '
                         'None or (minimum, maximum) with finite minimum < maximum.')
      # A tuple, whatever sequence was given, keeps the config hashable (it keys the cache).
      object.__setattr__(self, 'value_bounds', (float(bounds[0]), float(bounds[1])))


def _is_finite_number(value: object) -> bool:
  return (isinstance(value, (int, float)) and not isinstance(value, bool) and
          math.isfinite(value))


def _check_range(name: str, value: object, minimum: float, maximum: float) -> None:
  if not (_is_finite_number(value) and minimum <= value <= maximum):
    raise ValueError(f'SearchConfig.{name} = {value!r} is out of range; '
                     f'allowed: {minimum} <= {name} <= {maximum}.')


def _check_positive(name: str, value: object) -> None:
  if not (_is_finite_number(value) and value > 0):
    raise ValueError(f'SearchConfig.{name} = {value!r} is out of range; '
                     f'allowed: finite {name} > 0.')
