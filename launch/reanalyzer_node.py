"""The reanalyzer node: fresh targets for stored items, with weights from the variable server.

An actor without environments (`agents.muzero.reanalyze`): it samples batches from the replay
table, searches them again with the latest weights it has and writes them to the reanalyze
table, which the learner mixes into its batches. Its weights come through the variable server
like the actors'; the items it has written are counted as 'reanalyzer_items'.
"""

import threading

import launchpad as lp
import reverb
from absl import logging
from acme import specs
from acme.utils import counting

from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib
from launch import node_common


class ReanalyzerNode:
  """Reanalyses batch after batch until the program stops.

  The work runs in a daemon thread: a sample can wait on the replay's rate limiter for as long as
  actors do not insert, which they stop doing at the end of a run, and the node must still leave
  at once when the stop comes (it holds nothing that needs saving).
  """

  def __init__(self, reanalyzer_id: int, config: config_lib.MuZeroConfig,
               environment_spec: specs.EnvironmentSpec, replay: reverb.Client, variable_server,
               counter, seed: int, num_threads: int = 1):
    node_common.limit_threads(num_threads)
    self._reanalyzer_id = reanalyzer_id
    builder = builder_lib.MuZeroBuilder(config, environment_spec)
    # Waits for the first weights, however long the learner takes to start.
    self._reanalyzer = builder.make_reanalyzer(builder.make_network(), replay, variable_server,
                                               seed=seed)
    self._counter = counting.Counter(counter, 'reanalyzer')
    # Launchpad's stop can only be asked from the node's own thread, which relays it here.
    self._stopping = threading.Event()
    self._error = None

  def _work(self):
    try:
      while not self._stopping.is_set():
        self._counter.increment(items=self._reanalyzer.step())
    except Exception as error:  # pylint: disable=broad-except
      if not self._stopping.is_set():  # Errors while the program stops are the stop's doing.
        logging.exception('reanalyzer %d failed', self._reanalyzer_id)
        self._error = error

  def run(self):
    worker = threading.Thread(target=self._work, daemon=True, name='reanalyze')
    worker.start()
    while not lp.wait_for_stop(1.0):
      if not worker.is_alive():
        raise RuntimeError(f'reanalyzer {self._reanalyzer_id} failed: {self._error!r}')
    self._stopping.set()
    node_common.exit_if_own_process()

  def weights_version(self) -> int:
    """The learner step of the weights its latest items were reanalysed with."""
    return self._reanalyzer.weights_version
