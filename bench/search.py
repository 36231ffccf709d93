"""Benchmark of the compiled MuZero search: simulations per second on one pinned CPU core.

Workload: observation size 4, 2 actions, latent size 64; representation 4->64->64, dynamics
(64 + one-hot 2)->64->(64 latent + 1 reward), prediction 64->64->(2 logits + 1 value), ReLU,
random weights, scalar heads; 50 simulations, discount 0.997, Dirichlet noise on (alpha 0.25,
fraction 0.25). One search = root inference + noise + 50 simulations + reading the visit counts
into numpy. Compilation is timed separately; the throughput is the median of repetitions of at
least `--min_repetition_s` seconds each.

`--search_policy=gumbel` times Gumbel MuZero's search instead (Gumbel noise, no Dirichlet).

  python -m bench.search [--json] [--batch_sizes=1,16,64,256] [--cpu=1] [--search_policy=gumbel]
"""

import argparse
import os
import statistics
import sys
import time
from typing import List, NamedTuple


def _parse_args() -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--json', action='store_true',
                      help='print one JSON object per batch size and nothing else on stdout')
  parser.add_argument('--batch_sizes', default='1,16,64,256',
                      help='comma-separated batch sizes (default: %(default)s)')
  parser.add_argument('--num_simulations', type=int, default=50)
  parser.add_argument('--search_policy', default='muzero', choices=('muzero', 'gumbel'))
  parser.add_argument('--repetitions', type=int, default=5, help='timed repetitions (>= 5)')
  parser.add_argument('--min_repetition_s', type=float, default=1.0,
                      help='minimum duration of one repetition in seconds (>= 1)')
  parser.add_argument('--cpu', type=int, default=1,
                      help='the one CPU the process is pinned to, like taskset -c (default 1)')
  args = parser.parse_args()
  if args.repetitions < 5 or args.min_repetition_s < 1.0:
    parser.error(f'--repetitions={args.repetitions} and --min_repetition_s='
                 f'{args.min_repetition_s} must be >= 5 and >= 1: the figures are medians of at '
                 'least 5 repetitions of at least 1 s.')
  return args


if __name__ == '__main__':
  ARGS = _parse_args()
  # One thread on one core, set before TensorFlow loads and starts its thread pools (which
  # inherit the affinity). Importing this module for its network does none of this.
  os.environ['OMP_NUM_THREADS'] = '1'
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  os.sched_setaffinity(0, {ARGS.cpu})

import json  # pylint: disable=g-import-not-at-top,wrong-import-position

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import learner as learner_bench  # pylint: disable=g-import-not-at-top,wrong-import-position
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
              min_repetition_s: float, search_policy: str = 'muzero') -> Result:
  """Times complete searches for one batch size."""
  network = BenchmarkNetwork()
  config = config_lib.SearchConfig(num_simulations=num_simulations, discount=0.997,
                                   dirichlet_alpha=0.25, dirichlet_fraction=0.25, add_noise=True,
                                   search_policy=search_policy)
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


def main(args: argparse.Namespace) -> None:
  learner_bench.limit_threads(1)
  batch_sizes = [int(size) for size in args.batch_sizes.split(',')]
  command = f'python -m bench.search {" ".join(sys.argv[1:])}'.strip()
  if not args.json:
    print(f'{command}  (pinned to CPU {args.cpu}, 1 thread, TensorFlow {tf.__version__})')
    print(f'{"batch":>6} {"sims/s":>12} {"searches/s":>12} {"compile s":>10}')
  for batch_size in batch_sizes:
    result = benchmark(batch_size, args.num_simulations, args.repetitions, args.min_repetition_s,
                       args.search_policy)
    if args.json:
      print(json.dumps(result._asdict()), flush=True)
    else:
      print(f'{result.batch:>6} {result.sims_per_s:>12,.0f} {result.searches_per_s:>12,.1f} '
            f'{result.compile_s:>10.2f}', flush=True)


if __name__ == '__main__':
  main(ARGS)
