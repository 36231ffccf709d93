"""What the node modules of the distributed program share (`launch.program` builds the nodes).

Each node kind has its module (`replay_node`, `counter_node`, `learner_node`, `actor_node`,
`evaluator_node`, `reanalyzer_node`, `monitor`, `variable_server`); each is built inside its own
node (process or thread) from picklable arguments: the agent config, the environment spec, an
environment factory and handles of the other nodes. Here: the factory's type, the cap on a
node's TensorFlow threads, the exit of a node that owns its process, and the node that puts the
replay and the learner in one process.
"""

import threading
from typing import Callable

import dm_env
import launchpad as lp
import tensorflow as tf

from launch import pinned_stack

EnvironmentFactory = Callable[[int], dm_env.Environment]


def limit_threads(num_threads: int) -> None:
  """Caps TensorFlow's thread pools of this process; a no-op once TensorFlow has started."""
  try:
    tf.config.threading.set_intra_op_parallelism_threads(num_threads)
    tf.config.threading.set_inter_op_parallelism_threads(num_threads)
  except RuntimeError:
    pass  # Threaded launches share one TensorFlow runtime, already started.


# How many nodes of this process still have work; the last one to finish ends the process.
_unfinished_nodes_in_process = [1]
_unfinished_lock = threading.Lock()


def exit_if_own_process() -> None:
  """Ends this node's process at once when the node has one of its own (local_mp, vertex_ai).

  Called when a node's work is done and saved; teardown could block on the node's Reverb
  readers and writers (`launch.pinned_stack.exit_without_teardown`). Threaded launches share one
  process, which the launcher ends the same way once everything is saved. Nodes that share a
  process (`ReplayWithLearner`) end it when the last of them is done.
  """
  if lp.context.get_context().launch_type not in (lp.LaunchType.LOCAL_MULTI_PROCESSING,
                                                  lp.LaunchType.TEST_MULTI_PROCESSING,
                                                  lp.LaunchType.VERTEX_AI):
    return
  with _unfinished_lock:
    _unfinished_nodes_in_process[0] -= 1
    if _unfinished_nodes_in_process[0] > 0:
      return
  pinned_stack.exit_without_teardown(0)


class ReplayWithLearner(lp.MultiThreadingColocation):
  """The replay node and the learner node as two threads of one process.

  A sampler in the Reverb server's own process reads the table in memory; from another process
  every sampled item crosses gRPC. Measured on the CartPole preset (batch 128, one TensorFlow
  thread; WORKSPACE.md, "Replay in the learner's process"): the learner's CPU per step 21 ms with
  the table in its process against 31-42 ms (plus 4-7 ms of the server's) across processes. Actors
  and reanalyzers still insert through gRPC. Either node ends the process only once both are done.
  """

  def __init__(self, replay: lp.ReverbNode, learner: lp.CourierNode):
    super().__init__([replay, learner])

  def run(self):
    with _unfinished_lock:
      _unfinished_nodes_in_process[0] = len(self.nodes)
    return super().run()
