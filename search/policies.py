"""Public entry points: one compiled MuZero search per move for a whole batch of observations.

`SearchFn` is the compiled search of one (network, config); `run_search` keeps one per pair and
calls it. A search is one `tf.function` compiled with XLA: the root inference, the random numbers
of the search (`search.noise`: Dirichlet noise for the root, Gumbel variables for sampling the
action, or with `search_policy='gumbel'` the root's Gumbel variables), every simulation with its
network calls, and the choice of the action to play. With `config.root_inference` 'graph' (a big
network, by default) a plain `tf.function` around it runs the root inference instead and hands its
outputs in, so that XLA compiles the dynamics and prediction networks only.
The search is traced once per input signature (observation shapes, hence batch size, and dtypes;
whether a legal mask is given; no, one or one-per-row temperature) and called through the traced
concrete function's flat entry point, which skips `tf.function`'s per-call dispatch (about 80
us here) and the concrete function's own argument checks (about 80 us more, `_call_traced`).
Everything that changes from move to move is a tensor argument, so new observations, seeds,
legal masks or temperatures reuse the compiled code.
"""

import weakref
from typing import (Callable, Dict, Hashable, List, Mapping, MutableMapping, NamedTuple, Optional,
                    Union)

import numpy as np
import tensorflow as tf
import tree

from search import config as config_lib
from search import gumbel
from search import noise
from search import network as network_lib
from search import qtransforms
from search import search as search_lib
from search import selection
from search import tree as tree_lib

Seed = Union[int, np.ndarray, tf.Tensor]
# A batch of observations, batch first: an array, or a nest of arrays (e.g. a dict).
Observations = Union[np.ndarray, tf.Tensor, Mapping[str, Union[np.ndarray, tf.Tensor]]]
Temperature = Union[float, tf.Tensor]


class SearchOutput(NamedTuple):
  """Result of one search per batch element.

  Attributes:
    visit_counts: [B, A] int32 visits of each root action (they sum to num_simulations).
    search_policy: [B, A] float32 the policy target of training: visit_counts / num_simulations
      ('muzero'), or Gumbel MuZero's improved policy softmax(logits + sigma(completed Q))
      ('gumbel', see `search.gumbel`).
    root_value: [B] float32 value of the root after search: value sum / visit count, where the
      root's own network value counts as one visit (see `tree.root_value`).
    q_values: [B, A] float32 Q of each root action, reward + signed_discount * child value, seen
      by the player to move at the root; 0 for unvisited actions.
    selected_action: [B] int32 action to play: drawn from the visit counts at the temperature
      ('muzero'), or the action sequential halving left with the best Gumbel score ('gumbel').
  """

  visit_counts: tf.Tensor
  search_policy: tf.Tensor
  root_value: tf.Tensor
  q_values: tf.Tensor
  selected_action: tf.Tensor


class _Root(NamedTuple):
  """What the search reads of the root's initial inference (the compiled search's input when it
  runs in graph mode)."""

  latent: tf.Tensor
  policy_logits: tf.Tensor
  value: tf.Tensor


class SearchFn:
  """The compiled search of one network under one config; call it once per move.

  Rewards are seen by the player who acted and values by the player to move at each node (see
  `search.tree`), so the search needs no player identity: a two-player zero-sum game with
  alternating turns only needs `config.two_player`, and every value it returns is seen by the
  player to move at the root.
  """

  def __init__(self, network: network_lib.Network, config: config_lib.SearchConfig):
    # Traces read the network through this callable so that `run_search`'s cache can hold it
    # weakly (see `_weakly_bound`).
    self._network: Callable[[], Optional[network_lib.Network]] = lambda: network
    self._num_actions = network.num_actions
    self._config = config
    self._signed_discount = tree_lib.signed_discount(config.discount, config.two_player)
    self._is_gumbel = config.search_policy == 'gumbel'
    self._root_in_graph = config_lib.root_in_graph(config.root_inference, network)
    self._puct = selection.puct(config.pb_c_init, config.pb_c_base, self._signed_discount,
                                qtransforms.UNVISITED_Q_TRANSFORMS[config.unvisited_q])
    self._compiled_search = tf.function(self._compiled_search_graph, autograph=False,
                                        jit_compile=True)
    self._search = (tf.function(self._search_graph, autograph=False) if self._root_in_graph
                    else self._compiled_search)
    self._concrete_searches: Dict[Hashable, tf.types.experimental.ConcreteFunction] = {}

  @classmethod
  def _weakly_bound(cls, network: network_lib.Network,
                    config: config_lib.SearchConfig) -> 'SearchFn':
    """A SearchFn that does not keep `network` alive (the compiled graphs do not either)."""
    search_fn = cls(network, config)
    search_fn._network = weakref.ref(network)  # pylint: disable=protected-access
    return search_fn

  def __call__(self, observations: Observations,
               legal_actions: Optional[Union[np.ndarray, tf.Tensor]], seed: Seed,
               temperature: Optional[Temperature] = None) -> SearchOutput:
    """Runs one search per observation.

    Args:
      observations: [B, ...] batch of observations (or a nest of such batches, e.g. a dict), as
        `initial_inference` takes them.
      legal_actions: [B, A] bool mask of the actions legal at each root (at least one per row),
        or None when every action is legal.
      seed: int or [2] integer seed of the stateless random numbers (root noise, action
        sampling): the same seed and inputs give the same output.
      temperature: Visit-count temperature of the selected action (0: most visited, lowest
        index on ties), a scalar or one per row [B]; None uses `config.temperature`. Not used
        by 'gumbel', whose noise is on or off with `config.add_noise`.

    Returns:
      SearchOutput of eager tensors.

    Raises:
      ValueError: legal_actions is not [B, A] or leaves a root without a legal action; seed is
        not an int or a [2] integer array; temperature is not finite and >= 0, or neither a
        scalar nor [B].
    """
    # Converted leaf by leaf: observations may be nests (dicts of Atari frames and past actions).
    observations = tf.nest.map_structure(tf.convert_to_tensor, observations)
    leaves = tree.flatten_with_path(observations)
    batch_size = leaves[0][1].shape[0]
    if legal_actions is not None:
      legal_actions = tf.convert_to_tensor(_checked_legal_actions(
          legal_actions, batch_size, self._num_actions))
    if temperature is not None:
      temperature = tf.convert_to_tensor(_checked_temperature(temperature, batch_size))
    inputs = (observations, legal_actions, _as_seed(seed), temperature)
    signature = (tuple((path, tuple(leaf.shape), leaf.dtype) for path, leaf in leaves),
                 legal_actions is None, None if temperature is None else tuple(temperature.shape))
    concrete_search = self._concrete_searches.get(signature)
    if concrete_search is None:
      concrete_search = self._search.get_concrete_function(*inputs)
      self._concrete_searches[signature] = concrete_search
    # The concrete function takes its tensor arguments only, flattened: None was part of its trace.
    return _call_traced(concrete_search,
                        tf.nest.flatten([tensor for tensor in inputs if tensor is not None]))

  def _search_graph(self, observations: Observations, legal_actions: Optional[tf.Tensor],
                    seed: tf.Tensor, temperature: Optional[tf.Tensor]) -> SearchOutput:
    """The root inference in graph mode, then the compiled search (`config.root_inference`)."""
    return self._compiled_search(self._root_inference(observations), legal_actions, seed,
                                 temperature)

  def _root_inference(self, observations: Observations) -> _Root:
    output = self._network().initial_inference(observations)
    return _Root(output.latent, output.policy_logits, output.value)

  def _compiled_search_graph(self, root: Union[Observations, _Root],
                             legal_actions: Optional[tf.Tensor], seed: tf.Tensor,
                             temperature: Optional[tf.Tensor]) -> SearchOutput:
    """The compiled search; `root` is the observations, or with `_root_in_graph` the root's
    inference already run."""
    config = self._config
    network = self._network()
    if not self._root_in_graph:
      root = self._root_inference(root)
    if temperature is None:
      temperature = tf.constant(config.temperature, tf.float32)
    batch_size, num_actions = root.policy_logits.shape
    dirichlet_seed, gumbel_seed = noise.seeds(seed, 2)
    gumbels = noise.gumbel([batch_size, num_actions], gumbel_seed)
    if legal_actions is None:
      legal_actions = tf.ones([batch_size, num_actions], tf.bool)
    root_prior = _legal_softmax(root.policy_logits, legal_actions)
    if self._is_gumbel:
      gumbel_noise = gumbels if config.add_noise else tf.zeros_like(gumbels)
      select_action = gumbel.selection_fn(
          gumbel_noise, config.num_simulations, config.max_num_considered_actions,
          self._signed_discount, config.gumbel_c_visit, config.gumbel_c_scale)
    else:
      select_action = self._puct
      if config.add_noise:
        root_prior = ((1.0 - config.dirichlet_fraction) * root_prior +
                      config.dirichlet_fraction * _legal_softmax(
                          noise.log_gamma([batch_size, num_actions], config.dirichlet_alpha,
                                          dirichlet_seed), legal_actions))
    tree = tree_lib.init_tree(
        root.latent, root_prior, root.value, legal_actions, config.num_simulations,
        qtransforms.init_min_max_stats(batch_size, config.value_bounds))
    tree = search_lib.run_simulations(tree, network, config.num_simulations, select_action,
                                      self._signed_discount)

    visit_counts = tree.children_visits[:, tree_lib.ROOT_INDEX]
    if self._is_gumbel:
      search_policy, selected_action = gumbel.root_policy_and_action(
          tree, gumbel_noise, self._signed_discount, config.gumbel_c_visit, config.gumbel_c_scale)
    else:
      search_policy = tf.cast(visit_counts, tf.float32) / tf.cast(
          tf.reduce_sum(visit_counts, axis=-1, keepdims=True), tf.float32)
      selected_action = _select_action_by_visits(visit_counts, temperature, gumbels)
    return SearchOutput(
        visit_counts=visit_counts,
        search_policy=search_policy,
        root_value=tree_lib.root_value(tree, self._signed_discount),
        q_values=tree_lib.children_q_values(visit_counts,
                                            tree.children_value_sums[:, tree_lib.ROOT_INDEX],
                                            tree.children_rewards[:, tree_lib.ROOT_INDEX],
                                            self._signed_discount),
        selected_action=selected_action)


_SEARCH_FNS: MutableMapping[object, Dict[config_lib.SearchConfig, SearchFn]] = (
    weakref.WeakKeyDictionary())


def run_search(network: network_lib.Network,
               observations: Observations,
               legal_actions: Optional[Union[np.ndarray, tf.Tensor]],
               seed: Seed,
               config: config_lib.SearchConfig,
               temperature: Optional[Temperature] = None) -> SearchOutput:
  """Runs one MuZero search per observation with the cached `SearchFn` of (network, config).

  See `SearchFn.__call__` for the arguments. The compiled searches are cached per network and
  dropped with it, so `network` must support weak references (tf.Module does).
  """
  search_fns = _SEARCH_FNS.setdefault(network, {})
  if config not in search_fns:
    search_fns[config] = SearchFn._weakly_bound(network, config)  # pylint: disable=protected-access
  return search_fns[config](observations, legal_actions, seed, temperature)


def _call_traced(concrete_search: tf.types.experimental.ConcreteFunction,
                 flat_inputs: List[tf.Tensor]) -> SearchOutput:
  """Calls `concrete_search` with the flat tensors of the signature it was traced for.

  TensorFlow 2.8's `ConcreteFunction.__call__` binds and checks its structured arguments against
  the trace before calling `_call_flat`: ~80 us here, a sixth of a 2-action, B = 1 search
  (BENCHMARKS.md, "Search: the call path"). `SearchFn` traces one concrete function per
  signature (shapes, dtypes, which arguments are given), so the check can never fail and is
  skipped. `_call_flat` is private; requirements.txt pins TensorFlow, and
  `tests/search/test_policies.py` compares this call with the public one.
  """
  return concrete_search._call_flat(flat_inputs, concrete_search.captured_inputs)  # pylint: disable=protected-access


def _as_seed(seed: Seed) -> tf.Tensor:
  """A [2] int64 seed for stateless random ops from an int or a [2] integer array."""
  if isinstance(seed, (int, np.integer)):
    return tf.constant([int(seed), 0], tf.int64)
  seed = tf.cast(seed, tf.int64)
  if seed.shape != (2,):
    raise ValueError(f'seed must be an int or a [2] integer tensor, got shape {seed.shape}.')
  return seed


def _checked_legal_actions(legal_actions: Union[np.ndarray, tf.Tensor], batch_size: int,
                           num_actions: int) -> np.ndarray:
  legal_actions = np.asarray(legal_actions, dtype=bool)
  if legal_actions.shape != (batch_size, num_actions):
    raise ValueError(f'legal_actions has shape {legal_actions.shape}; expected '
                     f'[batch_size, num_actions] = [{batch_size}, {num_actions}].')
  has_legal_action = legal_actions.any(axis=1)
  if not has_legal_action.all():
    raise ValueError('legal_actions leaves no legal action at batch rows '
                     f'{np.flatnonzero(~has_legal_action).tolist()}; every root needs one.')
  return legal_actions


def _checked_temperature(temperature: Temperature, batch_size: int) -> np.ndarray:
  temperature = np.asarray(temperature, dtype=np.float32)
  if temperature.shape not in ((), (batch_size,)):
    raise ValueError(f'temperature has shape {temperature.shape}; expected a scalar or '
                     f'[batch_size] = [{batch_size}].')
  if not (np.isfinite(temperature).all() and (temperature >= 0).all()):
    raise ValueError(f'temperature = {temperature} is out of range; allowed: finite values >= 0.')
  return temperature


def _legal_softmax(logits: tf.Tensor, legal_actions: tf.Tensor) -> tf.Tensor:
  """[B, A] softmax of `logits` over the legal actions of each row, 0 on illegal ones: the root's
  prior from its policy logits, and its Dirichlet noise from the logs of Gamma(alpha) variables
  (normalised in logs, so that tiny alphas, whose variables underflow, still give a
  distribution)."""
  return tf.nn.softmax(tf.where(legal_actions, logits, tf.fill(tf.shape(logits), float('-inf'))))


def _select_action_by_visits(visit_counts: tf.Tensor, temperature: tf.Tensor,
                             gumbels: tf.Tensor) -> tf.Tensor:
  """[B] int32 action to play given the root visit counts [B, A].

  Temperature (a scalar, or [B] for one per row) 0 takes the most visited action (lowest index on
  ties). T > 0 samples from N(a)^(1/T) / sum_b N(b)^(1/T) with the Gumbel-max trick: with
  standard Gumbel variables `gumbels` [B, A], argmax(log(N) / T + gumbels) is such a sample.
  """
  visits = tf.cast(visit_counts, tf.float32)
  temperature = tf.reshape(temperature, [-1, 1])
  is_sampled = temperature > 0
  perturbed_logits = tf.where(
      visits > 0,
      tf.math.log(visits) / tf.where(is_sampled, temperature, tf.ones_like(temperature)) +
      gumbels,
      tf.fill(tf.shape(visits), float('-inf')))
  return tf.where(is_sampled[:, 0], tf.argmax(perturbed_logits, axis=-1, output_type=tf.int32),
                  tf.argmax(visits, axis=-1, output_type=tf.int32))
