"""The replay node: Reverb restored from and checkpointed to the run directory."""

import os
import shutil
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

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
# Where Reverb writes its checkpoints, where older ones are kept, where damaged ones are set aside
# (under the run directory).
REPLAY_DIRECTORY = 'replay'
REPLAY_KEPT_DIRECTORY = 'replay_kept'
REPLAY_DAMAGED_DIRECTORY = 'replay_damaged'
# Complete checkpoints kept in REPLAY_KEPT_DIRECTORY, the newest included: one to fall back to.
KEPT_REPLAY_CHECKPOINTS = 2
# Reverb's file with one record per table (tfrecord_checkpointer.cc).
REVERB_TABLES_FILE = 'tables.tfrecord'


def _checkpoint_directories(directory: str) -> List[str]:
  """The checkpoint directories in `directory`, newest first (Reverb names them by the time)."""
  if not os.path.isdir(directory):
    return []
  return [os.path.join(directory, name) for name in sorted(os.listdir(directory), reverse=True)]


def _is_complete(path: str) -> bool:
  return os.path.exists(os.path.join(path, REVERB_DONE_FILE))


def replay_checkpoints(directory: str) -> Tuple[Optional[str], List[str]]:
  """(the checkpoint Reverb restores from `directory`, the newer ones it skips as partial).

  Reverb 0.7 writes each checkpoint to a new directory named by the time, adds a DONE file once
  everything is written, then deletes the older ones; at start it loads the newest directory
  with a DONE file. A kill while writing therefore leaves the previous checkpoint in place and a
  newer directory without DONE, which is skipped (and deleted by the next checkpoint).
  """
  partial = []
  for path in _checkpoint_directories(directory):
    if _is_complete(path):
      return path, partial
    partial.append(path)
  return None, partial


def keep_replay_checkpoint(run_dir: str, path: str) -> None:
  """Keeps the checkpoint Reverb has just written to `path` in RUN_DIR/replay_kept, with the
  KEPT_REPLAY_CHECKPOINTS - 1 before it, so that a damaged newest one has one to fall back to.

  Reverb 0.7 deletes every older checkpoint directory once it has written a new one
  (`keep_latest` is 1 in `reverb_service_impl.cc`, and the client cannot change it). Its files
  are never written again, so hard links keep them at no cost of disk while Reverb's own
  directory holds them too; DONE is linked last, as Reverb writes it. Older and partial entries
  are deleted. Called after every checkpoint (the monitor's periodic ones, the stop's).
  """
  kept = os.path.join(run_dir, REPLAY_KEPT_DIRECTORY)
  target = os.path.join(kept, os.path.basename(path))
  try:
    os.makedirs(target, exist_ok=True)
    for name in sorted(os.listdir(path), key=lambda name: name == REVERB_DONE_FILE):
      if not os.path.exists(os.path.join(target, name)):
        os.link(os.path.join(path, name), os.path.join(target, name))
  except OSError as error:  # A later checkpoint already deleted it: that one is kept instead.
    logging.warning('replay: could not keep checkpoint %s: %r', path, error)
  complete = [entry for entry in _checkpoint_directories(kept) if _is_complete(entry)]
  for entry in _checkpoint_directories(kept):
    if entry not in complete[:KEPT_REPLAY_CHECKPOINTS]:
      shutil.rmtree(entry, ignore_errors=True)


def _restore_candidates(run_dir: str) -> List[str]:
  """Complete checkpoints to restore from, newest first: the one in Reverb's directory (always
  the newest written), then the kept ones older than it."""
  newest, _ = replay_checkpoints(os.path.join(run_dir, REPLAY_DIRECTORY))
  older = [path for path in _checkpoint_directories(os.path.join(run_dir, REPLAY_KEPT_DIRECTORY))
           if _is_complete(path) and (newest is None
                                      or os.path.basename(path) < os.path.basename(newest))]
  return ([newest] if newest is not None else []) + older


def _missing_tables(path: str, num_tables: int) -> Optional[str]:
  """Why the tables file of checkpoint `path` lacks a table, or None.

  Reverb writes one record per table; a file cut at a record's end (empty, say) loads without an
  error, with the missing tables empty. A corrupted record is left for Reverb's load to find.
  """
  try:
    records = sum(1 for _ in tf.data.TFRecordDataset(os.path.join(path, REVERB_TABLES_FILE)))
  except tf.errors.OpError:
    return None
  if records != num_tables:
    return f'{REVERB_TABLES_FILE} holds {records} table records; the server has {num_tables} tables'
  return None


def _set_aside(run_dir: str, path: str) -> str:
  """Moves damaged checkpoint `path` to RUN_DIR/replay_damaged (out of Reverb's and the kept
  directory, so that nothing restores it again); returns where it went."""
  name = os.path.basename(path)
  damaged = os.path.join(run_dir, REPLAY_DAMAGED_DIRECTORY, name)
  os.makedirs(os.path.dirname(damaged), exist_ok=True)
  if os.path.exists(damaged):  # Set aside before under the same name: the same files.
    shutil.rmtree(path)
  else:
    os.replace(path, damaged)
  shutil.rmtree(os.path.join(run_dir, REPLAY_KEPT_DIRECTORY, name), ignore_errors=True)
  return damaged


def start_replay_server(tables_fn: Callable[[], List[reverb.Table]], port: Optional[int],
                        run_dir: str) -> Tuple[reverb.Server, Dict[str, Any]]:
  """A Reverb server restored from the newest checkpoint of the run directory that loads.

  Returns the server and what was restored (`REPLAY_RESTORED_FILE`'s content, but the size):
  'path' (None: started empty), 'ignored_partial', and 'damaged', the checkpoints that did not
  load (each with its error and where it was moved) and 'warning' saying so.

  Reverb loads inside the server's constructor: the newest complete checkpoint of its directory,
  or the `fallback_checkpoint_path` when that directory has none. A damaged checkpoint (a
  corrupted or truncated file, a chunk an item names missing: reverb 0.7 raises RuntimeError
  for each, tried in `tests/launch/test_checkpoints.py`) fails the constructor before the server
  takes its port; it is set aside and the next older one is given as the fallback.
  """
  directory = os.path.join(run_dir, REPLAY_DIRECTORY)
  _, partial = replay_checkpoints(directory)
  for path in partial:
    logging.warning('replay: ignoring %s, a checkpoint whose writing was interrupted (no %s '
                    'file).', path, REVERB_DONE_FILE)
  damaged = []

  def server_restoring(candidate: Optional[str]) -> reverb.Server:
    # The damaged ones set aside, Reverb's directory holds no complete checkpoint but the
    # candidate, if it is there; one of the kept directory is the fallback.
    in_kept = candidate is not None and os.path.dirname(candidate) != directory
    return reverb.Server(tables=tables_fn(), port=port,
                         checkpointer=reverb.checkpointers.DefaultCheckpointer(
                             directory, fallback_checkpoint_path=candidate if in_kept else None))

  def restored(candidate: Optional[str]) -> Dict[str, Any]:
    warning = None
    if damaged:
      warning = (f'replay: {len(damaged)} damaged checkpoint(s) set aside in '
                 f'{os.path.join(run_dir, REPLAY_DAMAGED_DIRECTORY)}; '
                 + (f'restored the older {candidate}' if candidate is not None
                    else 'no checkpoint loads: the replay starts EMPTY'))
      logging.warning('%s', warning)
    return {'path': candidate, 'ignored_partial': partial, 'damaged': damaged,
            'warning': warning}

  num_tables = len(tables_fn())
  for candidate in _restore_candidates(run_dir):
    problem = _missing_tables(candidate, num_tables)
    if problem is None:
      try:
        return server_restoring(candidate), restored(candidate)
      except RuntimeError as error:
        problem = str(error)
    damaged.append({'path': candidate, 'error': problem,
                    'moved_to': _set_aside(run_dir, candidate)})
    logging.warning('replay: checkpoint %s does not load (%s); moved to %s.', candidate,
                    problem, damaged[-1]['moved_to'])
  return server_restoring(None), restored(None)


class ReplayNode(lp.ReverbNode):
  """A Reverb node that restores from and checkpoints to the run directory.

  At start it restores the newest checkpoint that loads (`start_replay_server`) and records the
  restored table size (`replay_restored.json`); at stop it checkpoints, keeps the checkpoint
  (`keep_replay_checkpoint`) and records the checkpointed size (`replay_checkpoint.json`), so a
  resumed run can show it lost nothing. Then, before shutting the server down, it samples for
  up to `drain_s` seconds: once the learner has stopped sampling, actors wait on the
  `SampleToInsertRatio` limiter inside their inserts, and Reverb's shutdown waits for those
  inserts (reanalyzers likewise on the reanalyze table's); the samples let them finish and see
  the stop.
  """

  def __init__(self, tables_fn, run_dir: str, table: str, drain_s: float = 3.0):
    super().__init__(tables_fn)
    self._tables_fn = tables_fn
    self._run_dir = run_dir
    self._table = table
    self._drain_s = drain_s

  def run(self):
    # Held by the node, not a local: `reverb.Server.__del__` calls `stop()`, which would block when
    # `run` returns under threaded launches (see below).
    self._replay_server, restored = start_replay_server(
        self._tables_fn, lp.get_port_from_address(self.reverb_address.resolve()), self._run_dir)
    client = self._replay_server.localhost_client()
    restored['size'] = int(client.server_info()[self._table].current_size)
    status_lib.write_json_atomically(os.path.join(self._run_dir, REPLAY_RESTORED_FILE), restored)
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
      keep_replay_checkpoint(self._run_dir, path)
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
