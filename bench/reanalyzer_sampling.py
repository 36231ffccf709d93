"""Benchmark of a reanalyzer's sampling: batches per second of the stop-aware sampler against the
prefetched dataset it replaced, beside the time of the batch's search.

Workload: the CartPole preset with reanalysis (`reanalyze_fraction=0.5`, so items hold K + 1
observations and the bootstrap observations), a single-process replay filled with CartPole-v1
episodes of a uniformly random policy, batches of `reanalyze_batch_size` items. Each way of
sampling turns a batch into numpy arrays, as the reanalyzer does, and both are timed over the
same number of batches after a few untimed ones, in alternating rounds (the best round of each
counts); the search of one batch (2 (K + 1) roots per
item, the actor's own search) is timed the same way, for scale.

  OMP_NUM_THREADS=1 taskset -c 1 python -m bench.reanalyzer_sampling [--batches=200] [--rounds=3] [--json]
"""

import os
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position


def _seconds_per_call(function, calls: int, warmup_calls: int = 3) -> float:
  for _ in range(warmup_calls):
    function()
  start = time.perf_counter()
  for _ in range(calls):
    function()
  return (time.perf_counter() - start) / calls


def measure(batches: int, rounds: int) -> dict:
  """Seconds per batch of each way of sampling (the best of `rounds` alternating rounds of
  `batches`), and of the batch's search."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import reverb  # pylint: disable=g-import-not-at-top
  import tree  # pylint: disable=g-import-not-at-top
  from acme import specs  # pylint: disable=g-import-not-at-top
  from agents.muzero import builder as builder_lib  # pylint: disable=g-import-not-at-top
  from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top
  from agents.muzero import reanalyze  # pylint: disable=g-import-not-at-top
  from environments import make_environment  # pylint: disable=g-import-not-at-top

  config = config_lib.with_overrides(config_lib.cartpole(), reanalyze_fraction=0.5)
  environment = make_environment('gym:CartPole-v1', seed=0)
  builder = builder_lib.MuZeroBuilder(config, specs.make_environment_spec(environment))
  server = reverb.Server(builder.make_replay_tables(single_process=True), port=None)
  address = f'localhost:{server.port}'
  adder = builder.make_adder(reverb.Client(address))
  rng = np.random.default_rng(0)
  inserted = 0
  while inserted < 1000:
    inserted += harness.play_random_episode(environment, rng, adder)
  adder.close()
  batch_size = config.reanalyze_batch_size

  dataset = iter(builder.make_dataset(address, batch_size=batch_size))
  sampler = builder.make_sampler(address, batch_size, should_stop=lambda: False)
  as_numpy = lambda sample: tree.map_structure(np.asarray, sample)
  actor = builder.make_actor(builder.make_network(), seed=0)
  items = tree.map_structure(np.asarray, next(sampler).data)
  # Alternate rounds, the best of each: a shared machine slows whichever runs at a busy time.
  dataset_s, sampler_s = [], []
  for _ in range(rounds):
    sampler_s.append(_seconds_per_call(lambda: as_numpy(next(sampler)), batches))
    dataset_s.append(_seconds_per_call(lambda: as_numpy(next(dataset)), batches))
  return {
      'batch_size': batch_size,
      'dataset_s': min(dataset_s),
      'stoppable_sampler_s': min(sampler_s),
      'search_s': _seconds_per_call(lambda: reanalyze.reanalyze_items(actor, items),
                                    max(1, batches // 10)),
  }


def define_flags() -> None:
  flags.DEFINE_integer('batches', 200, 'Timed batches of each way of sampling per round.',
                       lower_bound=1)
  flags.DEFINE_integer('rounds', 3, 'Alternating rounds of each way of sampling.', lower_bound=1)
  harness.define_json_flag(summary=False)


def main(flags_) -> None:
  harness.warn_unless_pinned('bench.reanalyzer_sampling')
  print(f'command: {harness.command_line("bench.reanalyzer_sampling", pinned=True)}',
        file=sys.stderr)
  harness.limit_threads(1)
  result = measure(flags_.batches, flags_.rounds)
  harness.report(flags_.json, result, lambda: (
      f'batch of {result["batch_size"]}: dataset {1e3 * result["dataset_s"]:.2f} ms, '
      f'stoppable sampler {1e3 * result["stoppable_sampler_s"]:.2f} ms '
      f'(x{result["stoppable_sampler_s"] / result["dataset_s"]:.2f}), '
      f'the batch\'s search {1e3 * result["search_s"]:.1f} ms'))
  # Reverb's dataset iterators block interpreter teardown (launch.pinned_stack).
  from launch import pinned_stack  # pylint: disable=g-import-not-at-top
  pinned_stack.exit_without_teardown(0)


if __name__ == '__main__':
  harness.run(define_flags, main)
