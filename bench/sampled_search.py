"""Benchmark of Sampled MuZero's search against the full search: milliseconds per batched search.

On one pinned core, for a CartPole-size MLP network (latent 64, width 64) with A = K actions:
  full        the full search over A discrete actions (`search.SearchFn`);
  sampled     the same network behind `agents.muzero.sampled.SampledSearch` with a uniform
              categorical proposal and K = A (it searches the same tree: the adapter's own cost
              is packing K actions and a key into each latent, hashing and scoring samples);
  continuous  a network of one continuous action dimension, K = A squashed Gaussian samples
              per node (what `continuous_control()` runs).
The three take turns in 9 rounds of 0.4 s each (compilation excluded); the figures are medians
over rounds, and the ratios medians of the ratios within a round, so a change in the shared
machine's load hits all three alike.

  python -m bench.sampled_search [--num_actions=8] [--batch_size=16] [--num_simulations=25]
      [--cpu=1]
"""

import os
import statistics
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from dm_env import specs  # pylint: disable=g-import-not-at-top,wrong-import-position

import search  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import sampled  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from networks import muzero  # pylint: disable=g-import-not-at-top,wrong-import-position
from networks.config import NetworkConfig  # pylint: disable=g-import-not-at-top,wrong-import-position

NETWORK = NetworkConfig(torso='mlp', latent_size=64, mlp_width=64, value_support_size=41,
                        reward_support_size=41)


def _milliseconds(search_once, seconds: float) -> float:
  """Mean milliseconds per call of `search_once` over calls filling `seconds`."""
  start, calls = time.perf_counter(), 0
  while time.perf_counter() - start < seconds:
    search_once()
    calls += 1
  return (time.perf_counter() - start) / calls * 1e3


def _interleaved_medians(searches, rounds: int = 9, seconds: float = 0.4):
  """{name: (median ms, median ratio to the first)}: the searches take turns in every round, so
  that a change of the machine's load hits all of them, and ratios are taken within a round."""
  for search_once in searches.values():
    search_once()  # Compiles.
  times = {name: [] for name in searches}
  for _ in range(rounds):
    for name, search_once in searches.items():
      times[name].append(_milliseconds(search_once, seconds))
  first = next(iter(searches))
  return {name: (statistics.median(values),
                 statistics.median(v / f for v, f in zip(values, times[first])))
          for name, values in times.items()}


def define_flags() -> None:
  """The command line of `python -m bench.sampled_search`."""
  flags.DEFINE_integer('num_actions', 8, 'A, the discrete actions, and K, the samples per node.',
                       lower_bound=1)
  flags.DEFINE_integer('batch_size', 16, 'Roots searched at once.', lower_bound=1)
  flags.DEFINE_integer('num_simulations', 25, 'Simulations per search.', lower_bound=1)
  harness.define_cpu_flag()


def main(args) -> None:
  harness.use_one_core(args.cpu)
  print(f'command: {harness.command_line("bench.sampled_search")}', flush=True)
  observation_spec = specs.Array((4,), np.float32)
  observations = np.random.default_rng(0).normal(size=(args.batch_size, 4)).astype(np.float32)
  keys = np.arange(args.batch_size)
  config = search.SearchConfig(num_simulations=args.num_simulations, temperature=0.0)
  discrete = muzero.make_network((observation_spec, args.num_actions), NETWORK)
  continuous = muzero.MuZeroNetwork(observation_spec, None, NETWORK, action_size=1)
  continuous.create_variables()
  full_search = search.SearchFn(discrete, config)
  sampled_search = sampled.SampledSearch(
      discrete, sampled.CategoricalProposal(args.num_actions, uniform_proposal=True),
      args.num_actions, config)
  continuous_search = sampled.SampledSearch(continuous, sampled.SquashedGaussianProposal(1),
                                            args.num_actions, config)
  figures = _interleaved_medians({
      'full': lambda: full_search(observations, None, 0).visit_counts.numpy(),
      'sampled': lambda: sampled_search(observations, keys, 0)[0].visit_counts.numpy(),
      'continuous': lambda: continuous_search(observations, keys, 0)[0].visit_counts.numpy(),
  })
  for name, (milliseconds, ratio) in figures.items():
    print(f'{name:>10}: {milliseconds:7.2f} ms per search of {args.batch_size} roots x '
          f'{args.num_simulations} simulations ({ratio:.2f} x full, median of round ratios)')


if __name__ == '__main__':
  harness.run(define_flags, main)
