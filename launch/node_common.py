"""What the node modules of the distributed program share (`launch.program` builds the nodes).

Each node kind has its module (`replay_node`, `counter_node`, `learner_node`, `actor_node`,
`evaluator_node`, `reanalyzer_node`, `monitor`, `variable_server`); each is built inside its own
node (process or thread) from picklable arguments: the agent config, the environment spec, an
environment factory and handles of the other nodes. Here: the factory's type, the cap on a
node's TensorFlow threads and the exit of a node that owns its process.
"""

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


def exit_if_own_process() -> None:
  """Ends this node's process at once when the node has one of its own (local_mp, vertex_ai).

  Called when a node's work is done and saved; teardown could block on the node's Reverb
  readers and writers (`launch.pinned_stack.exit_without_teardown`). Threaded launches share one
  process, which the launcher ends the same way once everything is saved.
  """
  if lp.context.get_context().launch_type in (lp.LaunchType.LOCAL_MULTI_PROCESSING,
                                               lp.LaunchType.TEST_MULTI_PROCESSING,
                                               lp.LaunchType.VERTEX_AI):
    pinned_stack.exit_without_teardown(0)
