"""Cost of one `initial_inference` and one `recurrent_inference` call on a single CPU thread.

Measures the two networks the project runs: the CartPole-size MLP (latent 64, one hidden layer of
64 per function) at batch 1, 64 and 256, and the paper's full Atari ResNet (Appendix F: 32 RGB
frames plus 32 past-action planes at 96x96, 16-block towers of 256 channels, 601-bin supports,
18 actions) at batch 1 and 32. Each function is compiled with `tf.function(jit_compile=True)` as
the search compiles it. The first call (trace plus XLA compile) is reported on its own and
excluded from the timings; a repetition then times enough back-to-back calls to last about 0.2 s
(at least one), and the table shows the median repetition.

Run pinned to one core, as the numbers in the report were taken:
  OMP_NUM_THREADS=1 taskset -c 1 python -m bench.networks
The CartPole part takes seconds. The Atari part takes several minutes, most of it XLA compiling
the full ResNet (about two minutes per batch size for initial_inference on these CPUs); pass
`--networks=cartpole` to skip it.
"""

import os
import statistics
import time
from typing import Callable, List, Tuple

import numpy as np
import tensorflow as tf
from absl import app
from absl import flags
from dm_env import specs

from bench import harness
from networks import muzero
from networks import observations
from networks.config import NetworkConfig

REPETITIONS = 5
SECONDS_PER_REPETITION = 0.2

# --networks name -> (table label, observation spec, num_actions, config, batch sizes).
NETWORKS = {
    'cartpole': ('cartpole mlp', specs.Array((4,), np.float32), 2,
                 NetworkConfig(latent_size=64, mlp_width=64, mlp_num_blocks=0,
                               value_support_size=21, reward_support_size=21), (1, 64, 256)),
    'atari': ('atari resnet', {'frames': specs.Array((96, 96, 96), np.uint8),
                               'past_actions': specs.BoundedArray((32,), np.int32, 0, 17)}, 18,
              NetworkConfig(), (1, 32)),
}


def time_calls(function: Callable[[], Tuple[tf.Tensor, ...]]) -> Tuple[float, float]:
  """(seconds of the first, compiling call, median over REPETITIONS of seconds per later call)."""
  start = time.perf_counter()
  tf.nest.map_structure(lambda tensor: tensor.numpy(), function())
  compile_seconds = time.perf_counter() - start
  start = time.perf_counter()
  tf.nest.map_structure(lambda tensor: tensor.numpy(), function())
  calls = max(1, int(SECONDS_PER_REPETITION / (time.perf_counter() - start)))
  repetitions = []
  for _ in range(REPETITIONS):
    start = time.perf_counter()
    for _ in range(calls):
      outputs = function()
    tf.nest.map_structure(lambda tensor: tensor.numpy(), outputs)
    repetitions.append((time.perf_counter() - start) / calls)
  return compile_seconds, statistics.median(repetitions)


def benchmark(name: str, observation_spec: observations.ObservationSpec, num_actions: int,
              config: NetworkConfig,
              batch_sizes: Tuple[int, ...]) -> List[Tuple[str, str, int, float, float]]:
  """Rows (network, function, batch size, compile seconds, seconds per call) for one network."""
  network = muzero.make_network((observation_spec, num_actions), config)
  initial_inference = tf.function(network.initial_inference, jit_compile=True)
  recurrent_inference = tf.function(network.recurrent_inference, jit_compile=True)
  generator = np.random.default_rng(0)
  rows = []
  for batch_size in batch_sizes:
    observation = observations.dummy_observation(observation_spec, batch_size)
    latent = network.initial_inference(observation).latent
    action = tf.constant(generator.integers(0, num_actions, batch_size), tf.int32)
    rows.append((name, 'initial_inference', batch_size,
                 *time_calls(lambda: initial_inference(observation))))
    rows.append((name, 'recurrent_inference', batch_size,
                 *time_calls(lambda: recurrent_inference(latent, action))))
  return rows


def define_flags() -> None:
  """The command line of `python -m bench.networks`."""
  flags.DEFINE_list('networks', list(NETWORKS), f'Subset of {",".join(NETWORKS)} to measure.')


def main(args) -> None:
  names = args.networks
  unknown = sorted(set(names) - set(NETWORKS))
  if unknown:
    raise app.UsageError(f'--networks has unknown {unknown}; allowed: {sorted(NETWORKS)}')
  # Thread pools must be sized before TensorFlow runs its first op.
  harness.limit_threads(1)
  cores = harness.warn_unless_pinned('bench.networks')
  rows = [row for name in names for row in benchmark(*NETWORKS[name])]
  print(f'command: {harness.command_line("bench.networks", pinned=True)}')
  print(f'observed: cores {cores}, OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS")}, '
        f'TensorFlow {tf.__version__}, median of {REPETITIONS} repetitions')
  print(f'| {"network":<12} | {"function":<19} | {"batch":>5} | {"ms / call":>10} | '
        f'{"us / sample":>11} | {"compile s":>9} |')
  print(f'|{"-" * 14}|{"-" * 21}|{"-" * 7}|{"-" * 12}|{"-" * 13}|{"-" * 11}|')
  for name, function, batch_size, compile_seconds, seconds in rows:
    print(f'| {name:<12} | {function:<19} | {batch_size:>5} | {seconds * 1e3:>10.3f} | '
          f'{seconds * 1e6 / batch_size:>11.1f} | {compile_seconds:>9.1f} |')


if __name__ == '__main__':
  harness.run(define_flags, main)
