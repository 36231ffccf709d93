"""Benchmark of the compiled MuZero search: simulations per second on one pinned CPU core.

Workload: observation size 4, 2 actions, latent size 64; representation 4->64->64, dynamics
(64 + one-hot 2)->64->(64 latent + 1 reward), prediction 64->64->(2 logits + 1 value), ReLU,
random weights, scalar heads; 50 simulations, discount 0.997, Dirichlet noise on (alpha 0.25,
fraction 0.25). One search = root inference + noise + 50 simulations + reading the visit counts
into numpy. Compilation is timed separately; the throughput is the median of repetitions of at
least `--min_repetition_s` seconds each.

  python -m bench.search [--json] [--batch_sizes=1,16,64,256] [--cpu=1]
"""

import os
import statistics
import sys
import time
from typing import List, NamedTuple

from absl import app
from absl import flags


def define_flags() -> None:
  """The command line of `python -m bench.search`."""
  flags.DEFINE_bool('json', False, 'Print one JSON object per batch size and nothing else on '
                    'stdout.')
  flags.DEFINE_list('batch_sizes', ['1', '16', '64', '256'], 'Batch sizes to measure.')
  flags.DEFINE_integer('num_simulations', 50, 'Simulations per search.', lower_bound=1)
  flags.DEFINE_integer('repetitions', 5, 'Timed repetitions; the figures are medians of at least '
                       '5.', lower_bound=5)
  flags.DEFINE_float('min_repetition_s', 1.0, 'Minimum duration of one repetition in seconds, at '
                     'least 1.', lower_bound=1.0)
  flags.DEFINE_integer('cpu', 1, 'The one CPU the process is pinned to, like taskset -c.')


if __name__ == '__main__':
  define_flags()
  app.define_help_flags()
  # Parsed before TensorFlow loads, for --cpu below; `app.run` at the end takes what is left.
  REMAINING_ARGV = app.parse_flags_with_usage(sys.argv)
  # One thread on one core, set before TensorFlow loads and starts its thread pools (which
  # inherit the affinity). Importing this module for its network does none of this.
  os.environ['OMP_NUM_THREADS'] = '1'
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  os.sched_setaffinity(0, {flags.FLAGS.cpu})


import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from networks.base import NetworkOutput  # pylint: disable=g-import-not-at-top,wrong-import-position
from search import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from search import policies  # pylint: disable=g-import-not-at-top,wrong-import-position

OBSERVATION_SIZE = 4
NUM_ACTIONS = 2
LATENT_SIZE = 64
HIDDEN_SIZE = 64


class BenchmarkNetwork(tf.Module):
  """The benchmark's MLP model with random weights and scalar reward and value heads."""

  def __init__(self, seed: int = 0):
    super().__init__()
    rng = np.random.default_rng(seed)

    def dense(fan_in: int, fan_out: int):
      return (tf.Variable(rng.normal(size=(fan_in, fan_out)).astype(np.float32) /
                          np.sqrt(fan_in)),
              tf.Variable(np.zeros(fan_out, np.float32)))

    self.num_actions = NUM_ACTIONS
    self._representation = [dense(OBSERVATION_SIZE, HIDDEN_SIZE), dense(HIDDEN_SIZE, LATENT_SIZE)]
    self._dynamics = [dense(LATENT_SIZE + NUM_ACTIONS, HIDDEN_SIZE),
                      dense(HIDDEN_SIZE, LATENT_SIZE + 1)]
    self._prediction = [dense(LATENT_SIZE, HIDDEN_SIZE), dense(HIDDEN_SIZE, NUM_ACTIONS + 1)]

  def initial_inference(self, observation: tf.Tensor) -> NetworkOutput:
    latent = _mlp(self._representation, observation)
    return self._predict(latent, tf.zeros([tf.shape(latent)[0]]))

  def recurrent_inference(self, latent: tf.Tensor, action: tf.Tensor) -> NetworkOutput:
    outputs = _mlp(self._dynamics, tf.concat([latent, tf.one_hot(action, NUM_ACTIONS)], axis=1))
    return self._predict(outputs[:, :LATENT_SIZE], outputs[:, LATENT_SIZE])

  def _predict(self, latent: tf.Tensor, reward: tf.Tensor) -> NetworkOutput:
    outputs = _mlp(self._prediction, latent)
    value = outputs[:, NUM_ACTIONS]
    return NetworkOutput(latent, reward, outputs[:, :NUM_ACTIONS], value, reward[:, None],
                         value[:, None])


def _mlp(layers, inputs: tf.Tensor) -> tf.Tensor:
  (hidden_weights, hidden_bias), (output_weights, output_bias) = layers
  return tf.nn.relu(inputs @ hidden_weights + hidden_bias) @ output_weights + output_bias


class Result(NamedTuple):
  batch: int
  num_simulations: int
  sims_per_s: float
  searches_per_s: float
  compile_s: float


def benchmark(batch_size: int, num_simulations: int, repetitions: int,
              min_repetition_s: float) -> Result:
  """Times complete searches for one batch size."""
  network = BenchmarkNetwork()
  config = config_lib.SearchConfig(num_simulations=num_simulations, discount=0.997,
                                   dirichlet_alpha=0.25, dirichlet_fraction=0.25, add_noise=True)
  observations = np.random.default_rng(1).normal(
      size=(batch_size, OBSERVATION_SIZE)).astype(np.float32)
  seed = 0

  def one_search() -> np.ndarray:
    nonlocal seed
    seed += 1
    return policies.run_search(network, observations, None, seed, config).visit_counts.numpy()

  start = time.perf_counter()
  one_search()
  compile_s = time.perf_counter() - start

  seconds_per_search: List[float] = []
  for _ in range(repetitions):
    num_searches = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_repetition_s:
      one_search()
      num_searches += 1
    seconds_per_search.append(elapsed / num_searches)
  searches_per_s = 1.0 / statistics.median(seconds_per_search)
  return Result(batch_size, num_simulations, searches_per_s * batch_size * num_simulations,
                searches_per_s, compile_s)


def main(argv) -> None:
  del argv
  args = flags.FLAGS
  harness.limit_threads(1)
  batch_sizes = [int(size) for size in args.batch_sizes]
  command = harness.command_line('bench.search')
  if not args.json:
    print(f'{command}  (pinned to CPU {args.cpu}, 1 thread, TensorFlow {tf.__version__})')
    print(f'{"batch":>6} {"sims/s":>12} {"searches/s":>12} {"compile s":>10}')
  for batch_size in batch_sizes:
    result = benchmark(batch_size, args.num_simulations, args.repetitions, args.min_repetition_s)
    harness.report(args.json, result._asdict(), lambda: (
        f'{result.batch:>6} {result.sims_per_s:>12,.0f} {result.searches_per_s:>12,.1f} '
        f'{result.compile_s:>10.2f}'))


if __name__ == '__main__':
  app.run(main, flags_parser=lambda argv: REMAINING_ARGV)
