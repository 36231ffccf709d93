"""The reanalyzer node: fresh targets for stored items, with weights from the variable server.

An actor without environments (`agents.muzero.reanalyze`): it samples batches from the replay
table, searches them again with the latest weights it has and writes them to the reanalyze
table, which the learner mixes into its batches. Its weights come through the variable server
like the actors'; the items it has written are counted as 'reanalyzer_items'.
"""

import launchpad as lp
import reverb
from acme import specs
from acme.utils import counting

from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib
from launch import node_common


class ReanalyzerNode:
  """Reanalyses batch after batch until the program stops.

  At the stop its samples and writes may be waiting on a rate limiter: actors no longer insert
  into the replay, and the learner no longer samples the reanalyze table. Both ask for the stop
  while they wait (`agents.muzero.replay.StoppableSampler`, `replay.flush`) and give up when it
  comes, so the node leaves within `replay.STOP_POLL_MS` of it, plus the batch's search. It
  holds nothing that needs saving.
  """

  def __init__(self, reanalyzer_id: int, config: config_lib.MuZeroConfig,
               environment_spec: specs.EnvironmentSpec, replay: reverb.Client, variable_server,
               counter, seed: int, num_threads: int = 1):
    node_common.limit_threads(num_threads)
    self._reanalyzer_id = reanalyzer_id
    builder = builder_lib.MuZeroBuilder(config, environment_spec)
    # Waits for the first weights, however long the learner takes to start.
    self._reanalyzer = builder.make_reanalyzer(builder.make_network(), replay, variable_server,
                                               seed=seed, should_stop=lambda: lp.wait_for_stop(0))
    self._counter = counting.Counter(counter, 'reanalyzer')

  def run(self):
    while not lp.wait_for_stop(0):
      try:
        self._counter.increment(items=self._reanalyzer.step())
      except Exception:  # pylint: disable=broad-except
        if lp.wait_for_stop(0):
          break  # Stopping: a wait gave up, or the replay server went away under it.
        raise
    # No `self._reanalyzer.close()`: its flush would wait on the rate limiter, which nothing
    # samples from any more.
    node_common.exit_if_own_process()

  def weights_version(self) -> int:
    """The learner step of the weights its latest items were reanalysed with."""
    return self._reanalyzer.weights_version
