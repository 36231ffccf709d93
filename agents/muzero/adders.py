"""The replay writer of MuZero actors: Acme's SequenceAdder with every start position kept.

`MuZeroAdder` writes, through Reverb's trajectory writer, one item of L = K + n + 1 rows per
action taken (period 1), starting at that action. Acme's `SequenceAdder` with ZERO_PAD end
behaviour writes the same items during an episode, but at its end only one more: it never writes
the sequences that start at the last L - 2 actions of an episode (nor, for episodes shorter than
L, any but the first). MuZero samples every position of a game as a starting point (paper,
pseudocode `sample_position`), and the last positions before a terminal are where values change
most, so this adder also writes those items, zero-padded past the end of the episode.

Rows (see `agents.muzero.targets` for how the learner reads them): a decision row i holds
o_i, a_i, u_i, d_i and the extras {'search_policy': pi_i, 'root_value': v_i, 'decision': 1};
after the last action comes the final observation with zero action, reward, discount, search
policy and decision flag, and root value `final_root_value` (0 unless the episode was truncated
and the actor bootstraps), then zero rows.

Columns: an item holds only the rows the learner reads (`column_lengths`): the first observation
(the representation sees o_0 alone), K actions, K + 1 search policies, and all L rewards,
discounts, root values and decision flags (the n-step targets). Rows that no learner reads would
cost the sampling bandwidth and memory of a batch L times over: chess's 518-row items would carry
518 boards and 518 policies over 4,672 moves (about 12 MB) instead of 1 board and 6 policies.

Priorities: Acme's adders hand priority functions the item converted to numpy, observations
included, which costs more than the rest of the actor's step. This adder keeps the few fields a
priority needs in numpy as it goes and hands priority functions a `base.Trajectory` of the item's
reward, discount and extras {'root_value', 'decision'} over all L rows; its observation, action
and start_of_episode are None.
"""

from typing import Dict, List, Mapping, Optional

import dm_env
import numpy as np
import reverb
import tensorflow as tf
import tree
from acme import specs
from acme import types
from acme.adders.reverb import base
from acme.adders.reverb import sequence

# Extras key of the flag the adder adds: 1 on decision rows, 0 on the final row and padding.
DECISION = 'decision'


def column_lengths(unroll_steps: int, td_steps: int) -> Dict[str, int]:
  """Rows per column of an item (see the module docstring); 'extras' covers every other extra."""
  length = unroll_steps + td_steps + 1
  return {'observation': 1, 'start_of_episode': 1, 'action': unroll_steps,
          'search_policy': unroll_steps + 1, 'reward': length, 'discount': length,
          'extras': length}


class MuZeroAdder(sequence.SequenceAdder):
  """SequenceAdder (period 1, zero padding) that writes an item for every action of an episode."""

  def __init__(self, client: reverb.Client, unroll_steps: int, td_steps: int,
               priority_fns: Optional[base.PriorityFnMapping] = None,
               max_in_flight_items: int = 2, get_signature_timeout_ms: int = 300_000):
    """Makes the adder.

    Args:
      client: Reverb client of the replay server.
      unroll_steps: K; items hold L = K + n + 1 rows (see `column_lengths`).
      td_steps: n.
      priority_fns: table name -> priority function of an item (see the module docstring for
        what it receives); None writes priority 1 to Acme's default table.
      max_in_flight_items: see `acme.adders.reverb.SequenceAdder`.
      get_signature_timeout_ms: see `acme.adders.reverb.SequenceAdder`.
    """
    if unroll_steps < 1 or td_steps < 1:
      raise ValueError(f'unroll_steps={unroll_steps} and td_steps={td_steps} are not allowed; '
                       'both must be >= 1.')
    super().__init__(client, sequence_length=unroll_steps + td_steps + 1, period=1,
                     priority_fns=priority_fns, max_in_flight_items=max_in_flight_items,
                     end_of_episode_behavior=sequence.EndBehavior.ZERO_PAD,
                     get_signature_timeout_ms=get_signature_timeout_ms)
    self._column_lengths = column_lengths(unroll_steps, td_steps)
    self._rows: Dict[str, List] = self._empty_rows()
    self._zero_step = None

  @staticmethod
  def signature(environment_spec: specs.EnvironmentSpec, extras_spec: Mapping[str, specs.Array],
                unroll_steps: int, td_steps: int) -> base.Trajectory:
    """The table signature of the items: `extras_spec` (what the actor gives) plus the flag."""
    lengths = column_lengths(unroll_steps, td_steps)
    extras_spec = dict(extras_spec)
    extras_spec[DECISION] = specs.Array((), np.float32, name=DECISION)

    def with_rows(spec_nest, rows):
      return tree.map_structure(
          lambda spec: tf.TensorSpec((rows,) + tuple(spec.shape), tf.as_dtype(spec.dtype),
                                     name=spec.name), spec_nest)

    return base.Trajectory(
        observation=with_rows(environment_spec.observations, lengths['observation']),
        action=with_rows(environment_spec.actions, lengths['action']),
        reward=with_rows(environment_spec.rewards, lengths['reward']),
        discount=with_rows(environment_spec.discounts, lengths['discount']),
        start_of_episode=with_rows(specs.Array((), bool), lengths['start_of_episode']),
        extras={key: with_rows(spec, lengths.get(key, lengths['extras']))
                for key, spec in extras_spec.items()})

  @staticmethod
  def _empty_rows() -> Dict[str, List]:
    """Per row of the episode: what priority functions see."""
    return {'reward': [], 'discount': [], 'root_value': [], DECISION: []}

  def reset(self):
    super().reset()
    self._rows = self._empty_rows()

  def close(self):
    """Sends what is pending and closes the writer; call while the server still runs.

    Acme's adders flush in `__del__`, which waits 10 s per adder when the server is already gone.
    """
    writer = self._ReverbAdder__writer  # Acme keeps its writer private (name-mangled).
    if writer is not None:
      writer.flush()
      writer.close()
      self._ReverbAdder__writer = None

  def add_first(self, timestep: dm_env.TimeStep):
    super().add_first(timestep)
    self._rows = self._empty_rows()

  def add(self, action: types.NestedArray, next_timestep: dm_env.TimeStep,
          extras: types.NestedArray = (), final_root_value: float = 0.0):
    """Records an action and the timestep that followed it.

    Args:
      action: the action taken.
      next_timestep: what the environment returned.
      extras: {'search_policy': [A] float32, 'root_value': [] float32} of the search that chose
        `action` (the adder adds the decision flag).
      final_root_value: when `next_timestep` is LAST, the value stored with the final
        observation (used as the bootstrap value of a truncated episode); ignored otherwise.
    """
    # Acme's ReverbAdder.add, keeping the numpy rows, and with `final_root_value` in the final row.
    if not self._add_first_called:
      raise ValueError('adder.add_first must be called before adder.add.')
    extras = dict(extras)
    extras[DECISION] = np.float32(1.0)
    current_step = dict(action=action, reward=next_timestep.reward,
                        discount=next_timestep.discount, extras=extras)
    self._writer.append(current_step)
    self._keep_row(current_step)
    self._writer.append(dict(observation=next_timestep.observation,
                             start_of_episode=next_timestep.first()), partial_step=True)
    self._write()
    if next_timestep.last():
      final_step = tree.map_structure(np.zeros_like, current_step)
      final_step['extras']['root_value'] = np.asarray(
          final_root_value, dtype=np.asarray(extras['root_value']).dtype)
      self._writer.append(final_step)
      self._keep_row(final_step)
      self._write_last()
      self.reset()

  def _keep_row(self, step: Dict):
    self._rows['reward'].append(float(step['reward']))
    self._rows['discount'].append(float(step['discount']))
    self._rows['root_value'].append(float(step['extras']['root_value']))
    self._rows[DECISION].append(float(step['extras'][DECISION]))

  def _write(self):
    """During the episode: the item ending at the last complete row, once there are L rows."""
    if self._writer.episode_steps >= self._sequence_length:
      self._create_item(offset_from_end=1)

  def _write_last(self):
    """Writes the items that start at the episode's last L - 2 (or fewer) actions."""
    length = self._sequence_length
    num_rows = self._writer.episode_steps  # Decision rows and the final row.
    # Items starting at rows 0 .. num_rows - 1 - length were written during the episode.
    first_start = max(0, num_rows - length)
    num_padding = 0
    for start in range(first_start, num_rows - 1):
      while num_rows + num_padding < start + length:
        self._append_zero_step()
        num_padding += 1
      self._create_item(offset_from_end=0)

  def _append_zero_step(self):
    if self._zero_step is None:
      self._zero_step = tree.map_structure(lambda column: np.zeros_like(column[-1].numpy()),
                                           self._writer.history)
    self._writer.append(self._zero_step)
    self._keep_row(self._zero_step)

  def _create_item(self, offset_from_end: int):
    """Creates the item of the L rows that end `offset_from_end` rows before the newest."""
    length = self._sequence_length
    start = -length - offset_from_end
    lengths = self._column_lengths
    history = self._writer.history

    def rows(column_nest, count):
      stop = start + count
      return tree.map_structure(lambda column: column[start:stop if stop < 0 else None],
                                column_nest)

    trajectory = base.Trajectory(
        observation=rows(history['observation'], lengths['observation']),
        action=rows(history['action'], lengths['action']),
        reward=rows(history['reward'], lengths['reward']),
        discount=rows(history['discount'], lengths['discount']),
        start_of_episode=rows(history['start_of_episode'], lengths['start_of_episode']),
        extras={key: rows(column, lengths.get(key, lengths['extras']))
                for key, column in history['extras'].items()})
    for table, priority_fn in self._priority_fns.items():
      priority = 1.0
      if priority_fn is not None:
        window = slice(start, start + length if start + length < 0 else None)
        kept = {key: np.asarray(values[window], np.float32) for key, values in self._rows.items()}
        priority = priority_fn(base.Trajectory(
            observation=None, action=None, start_of_episode=None,
            reward=kept['reward'], discount=kept['discount'],
            extras={'root_value': kept['root_value'], DECISION: kept[DECISION]}))
      self._writer.create_item(table, priority, trajectory)
      self._writer.flush(self._max_in_flight_items)
