"""Benchmark of the search's compile time with a board game preset's network (issue 14, item 2).

Builds `config.board_game(--game)`'s network (chess: 16 residual blocks of 256 channels) and
times, in one process pinned to one core with one TensorFlow thread, the first call (trace, XLA
compile and one search) and then the search itself of three variants of the same search on the
same network and position:
  * before: Sonnet's LayerNorm (its reductions become reduce-windows in XLA, see
    `networks.torsos.LayerNorm`) and the root inference inside XLA, the search of main at
    308106a;
  * xla root: the torsos' LayerNorm, root inference inside XLA (`root_inference='xla'`);
  * auto: the torsos' LayerNorm with `root_inference='auto'` (for this network: in graph mode).
Times are CPU seconds of this process (`time.process_time`), so that other processes on the
core count less; the searches alternate between the variants, `--repetitions` rounds, and
"per search / before" is the median of the per-round ratios. Root noise off, greedy selection.

  OMP_NUM_THREADS=1 python -m bench.search_compile [--game=chess] [--num_simulations=16] \
      [--repetitions=5] [--cpu=1] [--json]
"""

import contextlib
import dataclasses
import os
import time
from typing import Dict, Iterator, List

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import sonnet as snt  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from acme import specs  # pylint: disable=g-import-not-at-top,wrong-import-position

import search  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import actor as actor_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import builder as builder_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import make_environment  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import specs as environment_specs  # pylint: disable=g-import-not-at-top,wrong-import-position
from networks import observations as observations_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from networks import torsos  # pylint: disable=g-import-not-at-top,wrong-import-position

# (name, Sonnet's LayerNorm, root_inference), the first one the reference of the ratios.
VARIANTS = (('before', True, 'xla'), ('xla root', False, 'xla'), ('auto', False, 'auto'))


@contextlib.contextmanager
def sonnet_layer_norm(active: bool) -> Iterator[None]:
  """While `active`, the torsos' LayerNorm traces as Sonnet's own (moments by reductions), as
  the networks did before; a compiled search keeps what it was traced with."""
  ours = torsos.LayerNorm.__call__
  if active:
    torsos.LayerNorm.__call__ = snt.LayerNorm.__call__
  try:
    yield
  finally:
    torsos.LayerNorm.__call__ = ours


def define_flags() -> None:
  """The command line of `python -m bench.search_compile`."""
  flags.DEFINE_string('game', 'chess', 'OpenSpiel game of the board_game preset.')
  flags.DEFINE_integer('num_simulations', 16, 'Simulations per search (few: the compile is '
                       'what is timed).', lower_bound=1)
  flags.DEFINE_integer('repetitions', 5, 'Timed searches per variant, alternating.',
                       lower_bound=1)
  harness.define_json_flag(summary=False)
  harness.define_cpu_flag()


def main(args) -> None:
  harness.use_one_core(args.cpu)
  config = config_lib.board_game(args.game)
  environment = make_environment(f'openspiel:{args.game}', seed=0)
  spec = specs.make_environment_spec(environment)
  network = builder_lib.MuZeroBuilder(config, spec).make_network()
  batch = actor_lib.stack_observations([environment.reset().observation])
  num_actions = spec.actions.num_values
  observations = observations_lib.network_input(batch, num_actions)
  legal_actions = np.asarray(environment_specs.legal_actions(batch)) > 0.5
  search_config = dataclasses.replace(
      actor_lib.make_search_config(config, two_player=True, greedy=True),
      num_simulations=args.num_simulations)
  if not args.json:
    print(f'{harness.command_line("bench.search_compile")}  (pinned to CPU {args.cpu}, 1 thread, '
          f'TensorFlow {tf.__version__}; {args.game}: {config.network.num_blocks} blocks x '
          f'{config.network.channels} channels, {args.num_simulations} simulations, B = 1; '
          'CPU seconds)')
  # XLA's one-time set-up, so that the first variant is not charged for it.
  tf.function(lambda x: x + 1, jit_compile=True)(tf.ones([1]))

  searches, first_calls = {}, {}
  for name, sonnets, root_inference in VARIANTS:
    search_fn = search.SearchFn(network, dataclasses.replace(search_config,
                                                             root_inference=root_inference))
    start_cpu, start_wall = time.process_time(), time.time()
    with sonnet_layer_norm(sonnets):
      search_fn(observations, legal_actions, 0).visit_counts.numpy()
    first_calls[name] = (time.process_time() - start_cpu, time.time() - start_wall)
    searches[name] = search_fn
  per_search: Dict[str, List[float]] = {name: [] for name in searches}
  for repetition in range(args.repetitions):
    for name, search_fn in searches.items():
      start = time.process_time()
      search_fn(observations, legal_actions, repetition + 1).visit_counts.numpy()
      per_search[name].append(time.process_time() - start)
  reference = VARIANTS[0][0]
  for name, sonnets, root_inference in VARIANTS:
    ratio = float(np.median(np.asarray(per_search[name]) / np.asarray(per_search[reference])))
    result = {
        'variant': name, 'layer_norm': 'sonnet' if sonnets else 'torsos',
        'root_inference': root_inference,
        'root_in_graph': search.config.root_in_graph(root_inference, network),
        'first_call_cpu_s': round(first_calls[name][0], 1),
        'first_call_wall_s': round(first_calls[name][1], 1),
        'search_cpu_s': round(float(np.median(per_search[name])), 3),
        'search_over_before': round(ratio, 3)}
    harness.report(args.json, result, lambda result=result: (
        f'{result["variant"]:>9}: layer norm {result["layer_norm"]:>6}, root in '
        f'{"graph" if result["root_in_graph"] else "XLA":>5}; first call {result["first_call_cpu_s"]:6.1f} '
        f's CPU ({result["first_call_wall_s"]:6.1f} s wall); search {result["search_cpu_s"]:.3f} '
        f's CPU, {result["search_over_before"]:.3f} x before'))


if __name__ == '__main__':
  harness.run(define_flags, main)
