"""Reanalyze: fresh search targets for stored items, computed with recent weights.

MuZero Reanalyze (Schrittwieser et al. 2021, "Online and Offline Reinforcement Learning by
Planning with a Learned Model") trains on stored trajectories whose policy and value targets
are recomputed by a new search with the latest network, instead of the targets an older
network produced while acting. Here a reanalyzer is an actor without environments:

  1. it samples a batch of items from the replay table, with their prioritized probability,
     as the learner would (EfficientZero reanalyses the learner's own prioritized batch);
  2. one batched search of the actor's (`MuZeroActor.search`, root noise included) runs over
     the K + 1 observations the policy targets read (rows t .. t + K) and the K + 1 that the
     value targets bootstrap from (rows t + n .. t + n + K);
  3. it writes each item to the reanalyze table with the fresh `search_policy` and
     `bootstrap_value` columns, `weights_version` set to its own weights, and the source item's
     key, sampling probability and table size.

Continuous actions (Sampled MuZero, Hubert et al. 2021). An item's policy target is the search's
improved policy over the K actions that search sampled at the row's root (`sampled_actions`), so
a new search cannot keep the stored samples: they were drawn from an older network's proposal
beta, whose density the corrected prior (beta_hat / beta) pi needs and the item does not hold,
and they would keep the target where the old policy put its mass. The reanalysing search
samples K new actions from the current network's proposal at each stored observation (the
actor's sampled search, root keys from its own generator) and searches them; the item then
holds those samples in `sampled_actions` and the improved policy over them in `search_policy`,
replaced together for the K + 1 policy rows, as the learner's sample-based cross-entropy reads
them as one pair. The actions the episode took (`action`, the unroll's) stay the stored ones:
they are what the environment answered. The bootstrap rows' samples only serve their values and
are dropped. The columns and shapes are the actor's, so the reanalyze table's signature is the
replay's with the source columns, as for discrete actions.

The learner takes `MuZeroConfig.batch_split` items of every batch from that table and the rest
from the replay; thanks to the source columns it weights reanalysed items by importance and
updates their priorities in the replay as if it had sampled them itself. With a target network
the learner still recomputes every bootstrap value with it (the reanalysed values are then
only used for rows the target network does not see, i.e. none): policies are what reanalysis
adds then.

In the distributed program reanalyzers are nodes of their own that take weights from the
variable server (`launch.reanalyzer_node`); the single-process agent runs one in-process.
Rows past the end of an episode are searched too (their targets are masked or absorbing); a
board game's final position has no legal move, and is searched as if every move were legal.
"""

from typing import Any, Callable, Dict, Iterator, Optional

import numpy as np
import reverb
import tensorflow as tf
import tree

from agents.muzero import replay

# The table of reanalysed items, which the learner mixes into its batches.
REANALYZE_TABLE = 'reanalyze_table'
# Columns a reanalysed item adds to the replay item: where it came from and how likely it was.
SOURCE_KEY = 'source_key'
SOURCE_PROBABILITY = 'source_probability'
SOURCE_TABLE_SIZE = 'source_table_size'
SOURCE_COLUMNS = (SOURCE_KEY, SOURCE_PROBABILITY, SOURCE_TABLE_SIZE)


def reanalyzed_signature(item_signature: Dict[str, Any]) -> Dict[str, Any]:
  """The reanalyze table's signature: the replay item's columns and the source columns."""
  signature = dict(item_signature)
  signature[SOURCE_KEY] = tf.TensorSpec((), tf.uint64)
  signature[SOURCE_PROBABILITY] = tf.TensorSpec((), tf.float64)
  signature[SOURCE_TABLE_SIZE] = tf.TensorSpec((), tf.int64)
  return signature


def _merge_items_and_rows(x: np.ndarray) -> np.ndarray:
  """[N, R, ...] -> [N R, ...]."""
  return x.reshape((-1,) + x.shape[2:])


def reanalyze_items(actor, items: Dict[str, Any]) -> Dict[str, Any]:
  """Items (numpy columns, batch first) with fresh search policies and bootstrap values.

  Args:
    actor: a `MuZeroActor` whose `search` runs with the weights to reanalyse with.
    items: replay items with K + 1 `observation` rows and `bootstrap_observation` (see
      `agents.muzero.replay.ItemLayout`).

  Returns:
    The items with `search_policy` [N, K + 1, A] and `bootstrap_value` [N, K + 1] from one
    batched search over both row sets, and `weights_version` [N] the actor's weights; items of
    continuous actions (a `sampled_actions` column) also get the K + 1 rows' new
    `sampled_actions` [N, K + 1, S, D], the actions `search_policy` [N, K + 1, S] is over.
  """
  if 'bootstrap_observation' not in items:
    raise ValueError('reanalysis needs items with bootstrap_observation rows; make them with '
                     'an ItemLayout from a config with reanalyze_fraction > 0.')
  count, rows = np.shape(items['search_policy'])[:2]
  observation_rows = np.shape(tree.flatten(items['observation'])[0])[1]
  if observation_rows != rows:
    raise ValueError(f'reanalysis needs the K + 1 = {rows} observations of each item; these '
                     f'items hold {observation_rows}.')
  roots = tree.map_structure(
      lambda policy_rows, value_rows: np.concatenate(
          [_merge_items_and_rows(policy_rows), _merge_items_and_rows(value_rows)]),
      items['observation'], items['bootstrap_observation'])
  output = actor.search(roots, final_rows_allowed=True)
  fresh = dict(items)
  fresh['search_policy'] = output.search_policy[:count * rows].reshape(count, rows, -1).astype(
      np.float32)
  fresh['bootstrap_value'] = output.root_value[count * rows:].reshape(count, rows).astype(
      np.float32)
  fresh['weights_version'] = np.full([count], actor.learner_steps, np.int64)
  if 'sampled_actions' in items:
    fresh['sampled_actions'] = _fresh_sampled_actions(actor, items['sampled_actions'],
                                                      count * rows)
  return fresh


def _fresh_sampled_actions(actor, stored: np.ndarray, policy_roots: int) -> np.ndarray:
  """[N, K + 1, S, D] the actions the actor's latest search sampled at the policy rows' roots,
  which come first among its 2 N (K + 1) roots."""
  searched = actor.last_sampled_actions
  if searched is None or np.shape(searched) != (2 * policy_roots,) + np.shape(stored)[2:]:
    raise ValueError(f'items with sampled_actions of shape {np.shape(stored)} need an actor '
                     'whose search samples that many actions of that size at each of the '
                     f'{2 * policy_roots} roots; its latest search sampled '
                     f'{None if searched is None else np.shape(searched)}.')
  return np.asarray(searched[:policy_roots], np.float32).reshape(np.shape(stored))


class Reanalyzer:
  """Samples items from the replay, reanalyses them and writes them to the reanalyze table.

  Attributes:
    items_written: reanalysed items written so far.
  """

  def __init__(self, actor, samples: Iterator[reverb.ReplaySample], client: reverb.Client,
               table: str = REANALYZE_TABLE, wait_for_weights: bool = False,
               should_stop: Optional[Callable[[], bool]] = None):
    """Makes the reanalyzer.

    Args:
      actor: a `MuZeroActor` with a variable source (its search reanalyses), for roots of any
        batch size.
      samples: batches of replay items with their sample info, numpy arrays or tensors
        (`agents.muzero.replay.StoppableSampler`).
      client: Reverb client of the server holding `table`.
      table: where reanalysed items go.
      wait_for_weights: fetch the latest weights before every batch (one process); otherwise
        the actor's variable client refreshes them every `variable_update_period` batches
        without blocking.
      should_stop: asked every `replay.STOP_POLL_MS` while the batch's write waits on the
        table's rate limiter; once it says True, `step` raises `replay.WriterStopped` (the
        learner, which samples `table`, stops first). None waits as long as it takes.
    """
    self._actor = actor
    self._samples = samples
    self._client = client
    self._table = table
    self._wait_for_weights = wait_for_weights
    self._should_stop = should_stop
    self._writer = None
    self.items_written = 0

  @property
  def weights_version(self) -> int:
    return self._actor.learner_steps

  def step(self) -> int:
    """Reanalyses one batch; returns how many items it wrote."""
    if self._wait_for_weights:
      self._actor.update_and_wait()
    else:
      self._actor.update()
    sample = next(self._samples)
    items = reanalyze_items(self._actor, tree.map_structure(np.asarray, sample.data))
    items[SOURCE_KEY] = np.asarray(sample.info.key)
    items[SOURCE_PROBABILITY] = np.asarray(sample.info.probability)
    items[SOURCE_TABLE_SIZE] = np.asarray(sample.info.table_size)
    count = len(items[SOURCE_KEY])
    if self._writer is None:
      self._writer = self._client.trajectory_writer(num_keep_alive_refs=1)
    for index in range(count):
      # One step per item; its last (only) row, squeezed, is the item with the table's shapes.
      self._writer.append(tree.map_structure(lambda column: column[index], items))
      self._writer.create_item(self._table, 1.0,
                               tree.map_structure(lambda column: column[-1], self._writer.history))
    replay.flush(self._writer, self._table, should_stop=self._should_stop)
    self.items_written += count
    return count

  def close(self):
    """Sends what is pending and closes the writer; call while the server still runs."""
    if self._writer is not None:
      self._writer.close()
      self._writer = None
