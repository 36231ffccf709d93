"""The replay node: Reverb restored from and checkpointed to the run directory."""

import os
import time
from typing import List, Optional, Sequence, Tuple

import launchpad as lp
import reverb
import tensorflow as tf
from absl import logging

from launch import status as status_lib
from launch.node_common import exit_if_own_process


REPLAY_RESTORED_FILE = 'replay_restored.json'
REPLAY_CHECKPOINT_FILE = 'replay_checkpoint.json'
# The file Reverb writes last into a checkpoint directory, once the checkpoint is complete.
REVERB_DONE_FILE = 'DONE'


def replay_checkpoints(directory: str) -> Tuple[Optional[str], List[str]]:
  """(the checkpoint Reverb restores from `directory`, the newer ones it skips as partial).

  Reverb 0.7 writes each checkpoint to a new directory named by the time, adds a DONE file once
  everything is written, then deletes the older ones; at start it loads the newest directory
  with a DONE file. A kill while writing therefore leaves the previous checkpoint in place and a
  newer directory without DONE, which is skipped (and deleted by the next checkpoint).
  """
  if not os.path.isdir(directory):
    return None, []
  partial = []
  for name in sorted(os.listdir(directory), reverse=True):
    path = os.path.join(directory, name)
    if os.path.exists(os.path.join(path, REVERB_DONE_FILE)):
      return path, partial
    partial.append(path)
  return None, partial


class ReplayNode(lp.ReverbNode):
  """A Reverb node that restores from and checkpoints to the run directory.

  At start it records the restored table size (`replay_restored.json`); at stop it checkpoints
  and records the checkpointed size (`replay_checkpoint.json`), so a resumed run can show it
  lost nothing. Then, before shutting the server down, it samples for up to `drain_s` seconds:
  once the learner has stopped sampling, actors wait on the `SampleToInsertRatio` limiter inside
  their inserts, and Reverb's shutdown waits for those inserts (reanalyzers likewise on the
  reanalyze table's); the samples let them finish and see the stop.
  """

  def __init__(self, tables_fn, run_dir: str, table: str, drain_s: float = 3.0):
    super().__init__(tables_fn)
    self._tables_fn = tables_fn
    self._run_dir = run_dir
    self._table = table
    self._drain_s = drain_s

  def run(self):
    directory = os.path.join(self._run_dir, 'replay')
    restored, partial = replay_checkpoints(directory)
    for path in partial:
      logging.warning('replay: ignoring %s, a checkpoint whose writing was interrupted (no %s '
                      'file); restoring %s instead.', path, REVERB_DONE_FILE, restored or 'nothing')
    # Held by the node, not a local: `reverb.Server.__del__` calls `stop()`, which would block when
    # `run` returns under threaded launches (see below).
    self._replay_server = reverb.Server(
        tables=self._tables_fn(),
        port=lp.get_port_from_address(self.reverb_address.resolve()),
        checkpointer=reverb.checkpointers.DefaultCheckpointer(directory))
    client = self._replay_server.localhost_client()
    status_lib.write_json_atomically(os.path.join(self._run_dir, REPLAY_RESTORED_FILE), {
        'size': int(client.server_info()[self._table].current_size), 'path': restored,
        'ignored_partial': partial})
    lp.wait_for_stop()
    size, path = self._checkpoint(client)
    status_lib.write_json_atomically(os.path.join(self._run_dir, REPLAY_CHECKPOINT_FILE), {'size': size, 'path': path})
    logging.info('replay: checkpointed %d items to %s', size, path)
    self._drain(client.server_address, sorted(client.server_info()))
    # No `self._replay_server.stop()`: it waits for every open stream, the learner's prefetching
    # readers included, which wait on the rate limiter forever.
    exit_if_own_process()

  def _checkpoint(self, client: reverb.Client, attempts: int = 20) -> Tuple[int, str]:
    """Checkpoints; returns (size, path) once no insert landed while it was written.

    Actors may still be finishing their last inserts when the stop arrives; a size read on
    either side of an unchanged table is the size of the checkpoint.
    """
    for _ in range(attempts):
      before = int(client.server_info()[self._table].current_size)
      path = client.checkpoint()
      after = int(client.server_info()[self._table].current_size)
      if before == after:
        return after, path
      time.sleep(0.2)
    raise RuntimeError(f'the replay table kept changing during {attempts} checkpoints at stop.')

  def _drain(self, address: str, tables: Sequence[str]):
    """Samples every table in turn until the deadline (writers of each may wait on its limiter)."""
    deadline = time.time() + self._drain_s
    while time.time() < deadline:
      for table in tables:
        dataset = reverb.TrajectoryDataset.from_table_signature(
            address, table, max_in_flight_samples_per_worker=1, rate_limiter_timeout_ms=100)
        try:
          for _ in dataset.take(16):
            if time.time() >= deadline:
              return
        except tf.errors.OpError:
          pass  # Empty or rate limited: try again until the deadline.
