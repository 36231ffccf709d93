"""Configuration of the batched MuZero search: one validated dataclass, the paper's defaults."""

import dataclasses
import math
from typing import Optional, Tuple

import validation

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

# Where the root's `initial_inference` runs. 'xla': inside the compiled search, with everything
# else. 'graph': in TensorFlow's graph executor just before it, so that XLA never compiles the
# representation network. XLA's CPU backend spends most of a big network's compile time in LLVM
# on its layers (the chess preset's, 16 blocks of 256 channels: ~7 s of CPU per tower), while
# TensorFlow's own kernels run such layers as fast or faster; graph mode costs microseconds per
# op instead, once per search, which only a tiny network notices. 'auto' takes 'graph' for
# networks of at least `GRAPH_ROOT_MIN_PARAMETERS` trainable parameters (see `root_in_graph`).
ROOT_INFERENCES = ('auto', 'xla', 'graph')
# 'auto''s threshold. With bench.search's tiny MLP a graph-mode root made a search 1% slower at
# 2 actions and B = 1, 10% at 9 actions and B = 16; the presets' networks: cartpole 23k,
# tic-tac-toe 128k, connect four 270k parameters ('xla'), Go 9x9 and chess 38M and 39M ('graph').
GRAPH_ROOT_MIN_PARAMETERS = 1_000_000


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
    root_inference: Where the root's initial inference runs (see `ROOT_INFERENCES`): 'xla'
      inside the compiled search, 'graph' before it without XLA (XLA compiles only the
      dynamics and prediction networks), 'auto' 'graph' for networks of at least `GRAPH_ROOT_MIN_PARAMETERS`
      trainable parameters. Results are the same up to float rounding.
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
  root_inference: str = 'auto'

  def __post_init__(self):
    owner = 'SearchConfig'
    for field in ('num_simulations', 'max_num_considered_actions'):
      validation.check_int(owner, field, getattr(self, field), 1)
    for field, low, low_open in (('discount', 0.0, False), ('dirichlet_fraction', 0.0, False),
                                 ('pb_c_init', 0.0, True), ('pb_c_base', 0.0, True),
                                 ('dirichlet_alpha', 0.0, True), ('gumbel_c_visit', 0.0, False),
                                 ('gumbel_c_scale', 0.0, True), ('temperature', 0.0, False)):
      high = 1.0 if field in ('discount', 'dirichlet_fraction') else math.inf
      validation.check_number(owner, field, getattr(self, field), low, high, low_open=low_open,
                              high_open=high == math.inf)
    validation.check_choice(owner, 'unvisited_q', self.unvisited_q, UNVISITED_Q)
    validation.check_choice(owner, 'search_policy', self.search_policy, SEARCH_POLICIES)
    validation.check_choice(owner, 'root_inference', self.root_inference, ROOT_INFERENCES)
    for flag in ('add_noise', 'two_player'):
      validation.check_bool(owner, flag, getattr(self, flag))
    if self.value_bounds is not None:
      bounds = self.value_bounds
      if (not isinstance(bounds, (tuple, list)) or len(bounds) != 2
          or not all(validation.is_finite_number(bound) for bound in bounds)
          or not bounds[0] < bounds[1]):
        validation.fail(owner, 'value_bounds', bounds,
                        'None or (minimum, maximum) with finite minimum < maximum')
      # A tuple, whatever sequence was given, keeps the config hashable (it keys the cache).
      object.__setattr__(self, 'value_bounds', (float(bounds[0]), float(bounds[1])))


def root_in_graph(root_inference: str, network: object) -> bool:
  """Whether a search runs its root inference in graph mode, resolving 'auto' by the network's
  size: its `trainable_variables` (tf.Module's, or an adapter's) counted in parameters; a
  network without them counts as small."""
  if root_inference != 'auto':
    return root_inference == 'graph'
  parameters = sum(variable.shape.num_elements()
                   for variable in getattr(network, 'trainable_variables', ()))
  return parameters >= GRAPH_ROOT_MIN_PARAMETERS
