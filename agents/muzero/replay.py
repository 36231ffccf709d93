"""The replay item of MuZero: its columns, its Reverb signature, its writer and its targets.

Everything that writes or reads replay items goes through this module: actors write them with
`ReplayWriter`, and the learner turns them into targets with `item_targets`. The n-step target
(`value_targets`) and the priority (`priorities`) are written once, with array operators only,
so that the learner runs them on tensors in its graph and the writer on numpy arrays.

Rows. An episode of T actions becomes the rows 0 .. T: decision row i holds the observation o_i,
the action a_i the search chose there, the reward u_i and discount d_i that followed, the search
policy pi_i, the root value v_i and the version of the weights that searched; row T (the final
row) holds the final observation, zeros, and as root value the network's value of the final
observation when the episode was cut by a time limit (discount 1), 0 after a terminal. Padding
rows follow, so that every decision row starts an item of L = K + n + 1 rows (MuZero samples
every position of a game, pseudocode `sample_position`): copies of the final row with its flags,
so that a bootstrap row past the end holds the final observation and its value (Reverb reads
every column as a contiguous run of rows, so a column cannot point at the final row twice).
Each row carries two flags:
  - decision: 1 where a search ran (rows 0 .. T - 1);
  - absorbing: 1 on the final row and padding of a terminated episode. Those positions are
    absorbing (DESIGN.md section 4): their value and later rewards are truly 0. Past the end of a
    truncated episode nothing is known, so its final row and padding have absorbing 0 and their
    value, reward and policy losses are masked (training them towards 0 would teach that a
    balanced CartPole pole at the 500-step limit is worth nothing).

Columns of the item that starts at decision row t (K = unroll_steps, n = td_steps); Reverb stores
each row once, so columns that reference the same rows cost references, not copies:
  observation            [R, ...]  o_t .. o_{t+R-1}: R = K + 1 with the consistency loss or
                                   reanalysis (they need the observations the unroll reaches),
                                   else 1;
  bootstrap_observation  [K + 1, ...] rows t + n .. t + n + K, only with a target network or
                                   reanalysis;
  action                 [K]       a_t .. a_{t+K-1} ([K, D] float32 for continuous actions);
  search_policy          [K + 1, A] (continuous actions: [K + 1, S], over the S sampled
                                   actions of each row's search);
  sampled_actions        [K + 1, S, D] continuous actions only: the root actions the search
                                   weighed (Sampled MuZero's policy target is over them);
  reward, discount, decision  [K + n] rows t .. t + K + n - 1;
  absorbing              [K + 1];
  bootstrap_value        [K + 1]   the stored root values of rows t + n .. t + n + K;
  weights_version        []        learner step of the weights that searched row t.
The n-step sum of target k stops at the final row T; since padding repeats the final row, the
value it bootstraps from, that of row t + k + n, is the final row's when t + k + n > T.

Initial priorities (`MuZeroConfig.initial_priority`): 'max' gives a new item the largest
priority of the learner's latest batch (published with the weights; 1 before the first step),
as prioritized replay does for transitions whose error is unknown (Schaul et al. 2016; Ape-X
and R2D2 compute it in the actors instead). 'search' is the paper's |v_t - z_t| from the
actor's own search and stored values; with value heads that start at 0, every item without a
reward then enters at about priority_epsilon and, with alpha = 1, is practically never sampled,
so its priority is never corrected (Pong: almost every item).
"""

import dataclasses
from typing import Any, Callable, Dict, Iterator, NamedTuple, Optional

import dm_env
import numpy as np
import reverb
import tensorflow as tf
import tree
from acme import specs
from acme.adders import base as adders_base

from agents.muzero import canonical
from agents.muzero.config import INITIAL_PRIORITIES


@dataclasses.dataclass(frozen=True)
class ItemLayout:
  """How many rows each column of an item holds (see the module docstring).

  Attributes:
    unroll_steps: K.
    td_steps: n.
    observation_rows: R, 1 or K + 1.
    bootstrap_observations: whether items carry o_{b_k} for a target network.
    num_sampled_actions: S, the sampled actions of each search for continuous actions; None
      for discrete ones.
  """
  unroll_steps: int
  td_steps: int
  observation_rows: int = 1
  bootstrap_observations: bool = False
  num_sampled_actions: Optional[int] = None

  def __post_init__(self):
    if self.unroll_steps < 1 or self.td_steps < 1:
      raise ValueError(f'unroll_steps={self.unroll_steps} and td_steps={self.td_steps} are not '
                       'allowed; both must be >= 1.')
    if self.observation_rows not in (1, self.unroll_steps + 1):
      raise ValueError(f'observation_rows={self.observation_rows} is not allowed; allowed: 1 or '
                       f'unroll_steps + 1 = {self.unroll_steps + 1}.')

  @classmethod
  def from_config(cls, config, continuous_actions: bool = False) -> 'ItemLayout':
    """The layout a `MuZeroConfig` needs (for continuous actions when `continuous_actions`)."""
    # The consistency loss and reanalysis read o_t .. o_{t+K}; a target network and reanalysis
    # read the bootstrap observations.
    return cls(unroll_steps=config.unroll_steps, td_steps=config.td_steps,
               observation_rows=(config.unroll_steps + 1
                                 if config.consistency_loss_weight > 0 or config.reanalyze
                                 else 1),
               bootstrap_observations=(config.target_update_period is not None
                                       or config.reanalyze),
               num_sampled_actions=config.num_sampled_actions if continuous_actions else None)

  @property
  def length(self) -> int:
    """L = K + n + 1, the rows an item spans."""
    return self.unroll_steps + self.td_steps + 1


def item_signature(environment_spec: specs.EnvironmentSpec, layout: ItemLayout
                   ) -> Dict[str, Any]:
  """The table signature of the items: a dict of column name -> TensorSpec nest."""
  unroll, sums = layout.unroll_steps, layout.unroll_steps + layout.td_steps
  actions = environment_spec.actions
  sampled = layout.num_sampled_actions is not None
  action_shape = tuple(actions.shape) if sampled else ()
  policy_width = layout.num_sampled_actions if sampled else int(actions.num_values)

  def rows(spec_nest, count):
    return tree.map_structure(
        lambda spec: tf.TensorSpec((count,) + tuple(spec.shape), tf.as_dtype(spec.dtype)),
        spec_nest)

  signature = {
      'observation': rows(environment_spec.observations, layout.observation_rows),
      'action': tf.TensorSpec((unroll,) + action_shape, tf.float32 if sampled else tf.int32),
      'search_policy': tf.TensorSpec((unroll + 1, policy_width), tf.float32),
      'reward': tf.TensorSpec((sums,), tf.float32),
      'discount': tf.TensorSpec((sums,), tf.float32),
      'decision': tf.TensorSpec((sums,), tf.float32),
      'absorbing': tf.TensorSpec((unroll + 1,), tf.float32),
      'bootstrap_value': tf.TensorSpec((unroll + 1,), tf.float32),
      'weights_version': tf.TensorSpec((), tf.int64),
  }
  if sampled:
    signature['sampled_actions'] = tf.TensorSpec(
        (unroll + 1, layout.num_sampled_actions) + action_shape, tf.float32)
  if layout.bootstrap_observations:
    signature['bootstrap_observation'] = rows(environment_spec.observations, unroll + 1)
  return signature


def value_targets(rewards, discounts, decisions, bootstrap_values, num_targets: int,
                  td_steps: int, discount: float, two_player: bool = False):
  """n-step value targets z_0 .. z_{num_targets - 1}, on numpy arrays or tensors alike.

  For a decision row k (paper, Appendix G; DESIGN.md section 4):
    z_k = sum_{i<m} gamma^i D_{k,i} s^i u_{k+i} + gamma^m D_{k,m} s^m v_k,
    D_{k,i} = d_k ... d_{k+i-1},  m = min(n, rows until the final row),
  with v_k = `bootstrap_values[:, k]` the value of row b_k, and s = -1 in two-player zero-sum
  games (rewards are the mover's, values the player-to-move's, and the player alternates every
  ply), else 1. After a terminal the factor D is 0, so nothing is bootstrapped; after a
  truncation (d = 1) the target bootstraps from the final observation's value. Rows that are not
  decision rows get 0 (the loss masks them or, when absorbing, 0 is their value).

  Args:
    rewards: [B, M] u_k (M >= num_targets + td_steps - 1).
    discounts: [B, M] d_k, the environment's discount after the action of row k.
    decisions: [B, M] the decision flags.
    bootstrap_values: [B, num_targets] v of rows n .. n + num_targets - 1.
    num_targets: K + 1.
    td_steps: n.
    discount: gamma.
    two_player: flip the sign every ply.

  Returns:
    [B, num_targets] targets, of the inputs' kind (numpy or tensor).
  """
  length = rewards.shape[1]
  if length is not None and length < num_targets + td_steps - 1:
    raise ValueError(f'rows of {length} steps are too short for {num_targets} targets with '
                     f'td_steps={td_steps}: they need at least {num_targets + td_steps - 1}.')
  sign = -1.0 if two_player else 1.0
  window = lambda x, i: x[:, i:i + num_targets]
  # `alive`: rows k .. k + i are all decision rows; `factor`: gamma^(i+1) D_{k,i+1} s^(i+1) once
  # updated; `reach`: the factor of the bootstrap value, set where the sum stops.
  alive = window(decisions, 0)
  factor = alive * 0.0 + 1.0
  target = alive * 0.0
  reach = alive * 0.0
  for i in range(td_steps):
    target = target + factor * alive * window(rewards, i)
    factor = factor * (discount * sign) * window(discounts, i)
    if i + 1 < td_steps:
      next_is_decision = window(decisions, i + 1)
      reach = reach + factor * alive * (1.0 - next_is_decision)
      alive = alive * next_is_decision
  reach = reach + factor * alive
  return target + reach * bootstrap_values


def priorities(predicted_values, value_targets_0, epsilon: float):
  """|v - z| + epsilon, the priority of an item (paper, Appendix G), on arrays or tensors."""
  return abs(predicted_values - value_targets_0) + epsilon


def importance_weights(probabilities: tf.Tensor, table_size: tf.Tensor,
                       exponent: float) -> tf.Tensor:
  """(1 / (N P(i)))^beta normalised by the batch maximum, so that weights are at most 1."""
  probabilities = tf.cast(probabilities, tf.float32)
  table_size = tf.cast(table_size, tf.float32)
  weights = tf.pow(1.0 / (table_size * probabilities), exponent)
  return weights / tf.reduce_max(weights)


class Targets(NamedTuple):
  """What the learner trains an item towards, batch first (K = unroll_steps).

  Attributes:
    value: [B, K + 1] z_k.
    value_mask: [B, K + 1] 1 on decision and absorbing rows.
    reward: [B, K] u_0 .. u_{K-1}, predicted at unroll steps 1 .. K.
    reward_mask: [B, K] 1 where the step leaves a decision or absorbing row.
    policy: [B, K + 1, A] search policies ([B, K + 1, S] over sampled actions).
    policy_mask: [B, K + 1] 1 on decision rows.
    observation_mask: [B, K + 1] 1 where the row holds a real observation (decision rows and
      the final row), for the consistency loss.
    sampled_actions: [B, K + 1, S, D] the actions `policy` is over (continuous actions); None
      when it is over every action.
  """
  value: tf.Tensor
  value_mask: tf.Tensor
  reward: tf.Tensor
  reward_mask: tf.Tensor
  policy: tf.Tensor
  policy_mask: tf.Tensor
  observation_mask: tf.Tensor
  sampled_actions: Optional[tf.Tensor] = None


def item_targets(item: Dict[str, tf.Tensor], bootstrap_values: tf.Tensor, unroll_steps: int,
                 td_steps: int, discount: float, two_player: bool) -> Targets:
  """The targets of a batch of items (columns as in `item_signature`, batch first).

  `bootstrap_values` [B, K + 1] are the values of rows n .. n + K: the stored `bootstrap_value`
  column, or a target network's values of `bootstrap_observation`.
  """
  decision, absorbing = item['decision'], item['absorbing']
  value = value_targets(item['reward'], item['discount'], decision, bootstrap_values,
                        unroll_steps + 1, td_steps, discount, two_player)
  decision = decision[:, :unroll_steps + 1]
  # The final row is the first non-decision row; row 0 is always a decision row.
  previous = tf.concat([tf.ones_like(decision[:, :1]), decision[:, :-1]], axis=1)
  return Targets(
      value=value,
      value_mask=decision + absorbing,
      reward=item['reward'][:, :unroll_steps],
      reward_mask=decision[:, :unroll_steps] + absorbing[:, :unroll_steps],
      policy=item['search_policy'],
      policy_mask=decision,
      observation_mask=decision + (1.0 - decision) * previous,
      sampled_actions=item.get('sampled_actions'))


# How often a write that waits on the rate limiter asks whether to stop.
STOP_POLL_MS = 500


class WriterStopped(Exception):
  """A write gave up waiting on the table's rate limiter because its program is stopping."""


class SamplerStopped(Exception):
  """A sample gave up waiting on the table's rate limiter because its program is stopping."""


def flush(writer: reverb.TrajectoryWriter, table: str, block_until_num_items: int = 0,
          should_stop: Optional[Callable[[], bool]] = None):
  """Waits until at most `block_until_num_items` items of `writer` are unconfirmed.

  With `should_stop`, asks it every `STOP_POLL_MS` while the wait lasts and raises
  `WriterStopped` once it says True: at a program's stop the readers of `table` stop sampling
  first, and an insert would otherwise wait for samples that never come. None waits as long as
  it takes.
  """
  if should_stop is None:
    writer.flush(block_until_num_items)
    return
  while True:
    try:
      writer.flush(block_until_num_items, timeout_ms=STOP_POLL_MS)
      return
    except reverb.errors.DeadlineExceededError:
      if should_stop():
        raise WriterStopped(f'a write to table {table!r} was waiting on its rate limiter when '
                            'the stop came; the item may not have been inserted.')


class StoppableSampler:
  """Batches of a table's items, each a `reverb.ReplaySample` of numpy arrays, batch first.

  Sampled as the learner's dataset samples (parallel readers, prefetched batches), except that
  with `should_stop` a wait on the rate limiter ends every `STOP_POLL_MS` (Reverb's
  `rate_limiter_timeout_ms` ends the readers' iterator): then `should_stop` is asked, and True
  raises `SamplerStopped`, else a new iterator goes on waiting. Batches are made after the
  readers' items are merged, so the items sampled before a timeout come out as a last, short
  batch, which completes the next one rather than being lost. None waits as long as it takes.
  """

  def __init__(self, server_address: str, table: str, batch_size: int,
               should_stop: Optional[Callable[[], bool]] = None, num_readers: int = 1,
               prefetch_size: int = 1):
    self._server_address = server_address
    self._table = table
    self._batch_size = batch_size
    self._should_stop = should_stop
    self._num_readers = num_readers
    self._prefetch_size = prefetch_size
    self._dataset: Optional[tf.data.Dataset] = None
    self._batches: Optional[Iterator[reverb.ReplaySample]] = None
    self._pending = []  # Parts of the next batch, in order.

  def __iter__(self) -> 'StoppableSampler':
    return self

  def _make_dataset(self) -> tf.data.Dataset:
    timeout_ms = -1 if self._should_stop is None else STOP_POLL_MS

    def reader(_):
      return reverb.TrajectoryDataset.from_table_signature(
          self._server_address, self._table, max_in_flight_samples_per_worker=self._batch_size,
          rate_limiter_timeout_ms=timeout_ms)

    return tf.data.Dataset.range(self._num_readers).interleave(
        reader, cycle_length=self._num_readers, num_parallel_calls=self._num_readers,
        deterministic=False).batch(self._batch_size).prefetch(self._prefetch_size)

  def _next_part(self) -> reverb.ReplaySample:
    while True:
      if self._batches is None:
        if self._dataset is None:  # Made once: it reads the table's signature.
          self._dataset = self._make_dataset()
        self._batches = iter(self._dataset)  # Its readers start anew.
      try:
        return tree.map_structure(np.asarray, next(self._batches))
      except StopIteration:  # Every reader's wait outlasted the poll.
        self._batches = None
        if self._should_stop is not None and self._should_stop():
          raise SamplerStopped(f'a sample of table {self._table!r} was waiting on its rate '
                               'limiter when the stop came.') from None

  def __next__(self) -> reverb.ReplaySample:
    rows = sum(len(part.info.key) for part in self._pending)
    while rows < self._batch_size:
      self._pending.append(self._next_part())
      rows += len(self._pending[-1].info.key)
    parts = tree.map_structure(lambda *columns: np.concatenate(columns), *self._pending)
    self._pending = ([tree.map_structure(lambda column: column[self._batch_size:], parts)]
                     if rows > self._batch_size else [])
    return tree.map_structure(lambda column: column[:self._batch_size], parts)


class ReplayWriter(adders_base.Adder):
  """Writes the items of one environment's episodes through a `reverb.TrajectoryWriter`.

  An Acme adder (`add_first`, `add`, `reset`); `add` takes the search's extras. Items are made
  right after a row is complete, so that every index counts complete rows only.
  """

  def __init__(self, client: reverb.Client, table: str, layout: ItemLayout,
               initial_priority: str = 'max', discount: float = 1.0, two_player: bool = False,
               priority_epsilon: float = 1e-6, max_in_flight_items: int = 2,
               get_signature_timeout_ms: int = 300_000, observation_spec: Any = None,
               should_stop: Optional[Callable[[], bool]] = None):
    """Makes the writer.

    Args:
      client: Reverb client of the replay server.
      table: the table items go to.
      layout: the item's columns.
      initial_priority: 'max' or 'search' (see the module docstring).
      discount: gamma, for 'search' priorities.
      two_player: sign flips of the targets, for 'search' priorities.
      priority_epsilon: added to 'search' priorities.
      max_in_flight_items: items sent but not yet confirmed before `add` blocks.
      get_signature_timeout_ms: how long to wait for the table's signature, which the writer
        checks items against.
      observation_spec: the canonical observation spec (`agents.muzero.canonical`), whose
        dtypes observations are cast to; None writes them as given.
      should_stop: asked every `STOP_POLL_MS` while a write waits on the table's rate limiter;
        once it says True the write raises `WriterStopped`. At a program's stop the learner
        stops sampling first, and an insert would otherwise wait for samples that never come.
        None waits as long as it takes.
    """
    if initial_priority not in INITIAL_PRIORITIES:
      raise ValueError(f'initial_priority={initial_priority!r} is not allowed; allowed: '
                       f'{INITIAL_PRIORITIES}.')
    self._client = client
    self._table = table
    self._layout = layout
    self._initial_priority = initial_priority
    self._discount = discount
    self._two_player = two_player
    self._priority_epsilon = priority_epsilon
    self._max_in_flight_items = max_in_flight_items
    self._get_signature_timeout_ms = get_signature_timeout_ms
    self._observation_spec = observation_spec
    self._should_stop = should_stop
    self._writer: Optional[reverb.TrajectoryWriter] = None
    # The priority of new items under 'max'; the actor sets it from the learner's.
    self.max_priority = 1.0
    self._start_episode()

  def _start_episode(self):
    self._num_rows = 0          # Complete rows of this episode.
    self._next_start = 0        # The first decision row whose item is not written yet.
    self._final_row: Optional[int] = None
    self._open = False          # add_first was called and the episode has not ended.
    # What a 'search' priority reads, per row; 'max' needs none of it.
    self._kept = ({'reward': [], 'discount': [], 'decision': [], 'root_value': []}
                  if self._initial_priority == 'search' else {})

  @property
  def writer(self) -> reverb.TrajectoryWriter:
    if self._writer is None:
      self._writer = self._client.trajectory_writer(
          num_keep_alive_refs=self._layout.length + 1,
          get_signature_timeout_ms=self._get_signature_timeout_ms)
    return self._writer

  def reset(self):
    """Drops the episode in progress (its items not yet written are lost)."""
    if self._writer is not None:
      self._writer.end_episode(clear_buffers=True)
    self._start_episode()

  def close(self):
    """Sends what is pending and closes the writer; call while the server still runs."""
    if self._writer is not None:
      self._writer.flush()
      self._writer.close()
      self._writer = None

  def add_first(self, timestep: dm_env.TimeStep):
    if not timestep.first():
      raise ValueError(f'add_first needs a FIRST timestep; got step_type {timestep.step_type}.')
    if self._open:
      self.reset()
    self._open = True
    self.writer.append({'observation': self._observation(timestep)}, partial_step=True)

  def add(self, action, next_timestep: dm_env.TimeStep, extras: Dict[str, Any] = (),
          final_root_value: float = 0.0):
    """Completes the current row with the action, what followed and the search's extras.

    Args:
      action: the action taken, canonical (`agents.muzero.canonical.canonical_action`): any
        integer type (stored as int32), or [D] in [-1, 1] for continuous actions.
      next_timestep: what the environment returned.
      extras: {'search_policy': [A], 'root_value': [], 'weights_version': []} of the search
        that chose `action`, and 'sampled_actions' [S, D] for continuous actions.
      final_root_value: when `next_timestep` is LAST, the network's value of the final
        observation, the bootstrap value of a truncated episode; ignored after a terminal.
    """
    if not self._open:
      raise ValueError('add_first must be called before add.')
    extras = dict(extras)
    sampled = self._layout.num_sampled_actions is not None
    row = {
        'action': np.asarray(action, np.float32) if sampled else np.int32(action),
        'reward': np.float32(next_timestep.reward),
        'discount': np.float32(next_timestep.discount),
        'search_policy': np.asarray(extras['search_policy'], np.float32),
        'root_value': np.float32(extras['root_value']),
        'weights_version': np.int64(extras.get('weights_version', 0)),
        'decision': np.float32(1.0),
        'absorbing': np.float32(0.0),
    }
    if sampled:
      row['sampled_actions'] = np.asarray(extras['sampled_actions'], np.float32)
    self._append_row(row)
    if not next_timestep.last():
      self.writer.append({'observation': self._observation(next_timestep)}, partial_step=True)
      return
    terminated = float(next_timestep.discount) == 0.0
    final = dict(tree.map_structure(np.zeros_like, row))
    final['observation'] = self._observation(next_timestep)
    final['root_value'] = np.float32(0.0 if terminated else final_root_value)
    final['absorbing'] = np.float32(terminated)
    self._final_row = self._num_rows
    self._append_row(final)
    while self._next_start < self._final_row:
      self._append_row(final)
    try:
      self.writer.end_episode(
          clear_buffers=True, timeout_ms=None if self._should_stop is None else STOP_POLL_MS)
    except reverb.errors.DeadlineExceededError:
      # The episode has ended all the same; its last items are still on their way.
      self._flush(0)
    self._start_episode()

  def _observation(self, timestep: dm_env.TimeStep) -> Any:
    if self._observation_spec is None:
      return timestep.observation
    return canonical.cast_observation(timestep.observation, self._observation_spec)

  def _append_row(self, row: Dict[str, Any]):
    """Appends a row (completing the open one, if any) and writes the items it completes."""
    self.writer.append(row)
    for key, values in self._kept.items():
      values.append(float(row[key]))
    self._num_rows += 1
    last_start = self._final_row - 1 if self._final_row is not None else self._num_rows
    while (self._next_start <= last_start
           and self._next_start + self._layout.length <= self._num_rows):
      self._create_item(self._next_start)
      self._next_start += 1

  def _create_item(self, start: int):
    layout = self._layout
    unroll, sums = layout.unroll_steps, layout.unroll_steps + layout.td_steps
    history = self.writer.history
    offset = -self._num_rows  # Row r is history index r + offset.

    def rows(column_nest, first, count):
      stop = first + count + offset
      return tree.map_structure(
          lambda column: column[first + offset:stop if stop < 0 else None], column_nest)

    bootstrap = start + layout.td_steps
    item = {
        'observation': rows(history['observation'], start, layout.observation_rows),
        'action': rows(history['action'], start, unroll),
        'search_policy': rows(history['search_policy'], start, unroll + 1),
        'reward': rows(history['reward'], start, sums),
        'discount': rows(history['discount'], start, sums),
        'decision': rows(history['decision'], start, sums),
        'absorbing': rows(history['absorbing'], start, unroll + 1),
        'bootstrap_value': rows(history['root_value'], bootstrap, unroll + 1),
        'weights_version': history['weights_version'][start + offset],
    }
    if layout.num_sampled_actions is not None:
      item['sampled_actions'] = rows(history['sampled_actions'], start, unroll + 1)
    if layout.bootstrap_observations:
      item['bootstrap_observation'] = rows(history['observation'], bootstrap, unroll + 1)
    self.writer.create_item(self._table, self._priority(start), item)
    self._flush(self._max_in_flight_items)

  def _flush(self, block_until_num_items: int):
    flush(self.writer, self._table, block_until_num_items, self._should_stop)

  def _priority(self, start: int) -> float:
    if self._initial_priority == 'max':
      return float(self.max_priority)
    layout = self._layout
    sums = slice(start, start + layout.unroll_steps + layout.td_steps)
    kept = {key: np.asarray(values[sums], np.float32)[None] for key, values in self._kept.items()}
    bootstrap_value = np.asarray([[self._kept['root_value'][start + layout.td_steps]]],
                                 np.float32)
    target = value_targets(kept['reward'], kept['discount'], kept['decision'], bootstrap_value,
                           1, layout.td_steps, self._discount, self._two_player)
    return float(priorities(self._kept['root_value'][start], target[0, 0],
                            self._priority_epsilon))
