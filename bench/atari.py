"""Atari throughput of the `atari()` preset: environment frames/s per actor, learner steps/s.

Actor: one MuZeroActor driving B environments of the game in lock-step (B = the preset's
`envs_per_actor` unless `--envs`), one batched search per step with the preset's network and
search (50 simulations, root noise), every step written through the real adders to an in-process
Reverb table; the weights stay random (no learner). Frames = environment steps x 4, the frame
skip of `environments.atari`. Compilation (the first steps) is excluded.

Learner: the preset's network and targets (K = 5, n = 10, 601-bin supports, momentum SGD) at each
`--batch_sizes`, over a table filled with random-policy episodes of the game; the whole learner
path is timed (prioritized sampling through Acme's dataset, targets, unroll, loss, update,
priority write-back), tracing excluded (`bench.learner.measure_learner`).

TensorFlow runs one intra-op and one inter-op thread. Pin the process to one core, as the
figures in BENCHMARKS.md were taken:
  OMP_NUM_THREADS=1 taskset -c 1 python -m bench.atari
  OMP_NUM_THREADS=1 taskset -c 1 python -m bench.atari --size=paper --seconds=0 --batch_sizes=32 \
      --learner_steps=1 --warmup_steps=1
"""

import dataclasses
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import app  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import actor as actor_bench  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import learner as learner_bench  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import atari  # pylint: disable=g-import-not-at-top,wrong-import-position


def define_flags() -> None:
  """The command line of `python -m bench.atari`."""
  flags.DEFINE_string('game', 'Pong', 'ALE game name, as in atari:<game>.')
  flags.DEFINE_enum('size', config_lib.ATARI_SIZES[0], config_lib.ATARI_SIZES,
                    'Size of the atari() preset.')
  flags.DEFINE_integer('envs', None, "Environments of the actor (default: the preset's "
                       'envs_per_actor).', lower_bound=1)
  flags.DEFINE_float('seconds', 60.0, 'Timed seconds of acting; 0 skips it.')
  flags.DEFINE_list('batch_sizes', ['32', '256'], 'Learner batch sizes; empty skips the learner.')
  flags.DEFINE_integer('learner_steps', 10, 'Timed learner steps per batch size.', lower_bound=1)
  flags.DEFINE_integer('warmup_steps', 3, 'Untimed learner steps first (tracing); at least 1.',
                       lower_bound=1)
  harness.define_json_flag(summary=False)


def main(args) -> None:
  batch_sizes = [int(size) for size in args.batch_sizes]
  if batch_sizes and min(batch_sizes) < 1:
    raise app.UsageError(f'--batch_sizes={",".join(args.batch_sizes)} is not allowed; every '
                         'entry must be >= 1.')
  harness.limit_threads(1)
  cores = harness.warn_unless_pinned('bench.atari')
  print(f'command: {harness.command_line("bench.atari", pinned=True)}', flush=True)
  config = config_lib.atari(args.size)
  environment_id = f'atari:{args.game}'
  network = config.network
  print(f'{environment_id}, atari({args.size!r}): resnet {network.downsample_channels}/'
        f'{network.channels} channels, {network.num_blocks} blocks, {network.value_support_size} '
        f'bins, {config.search.num_simulations} simulations; 1 TF thread, cores {cores}', flush=True)
  if args.seconds > 0:
    envs = args.envs or config.envs_per_actor
    result = actor_bench.measure(envs, config.search.num_simulations, args.seconds,
                                 environment_id=environment_id, config=config)
    result['frames_per_second'] = result['env_steps_per_second'] * atari.FRAME_SKIP
    harness.report(args.json, {'part': 'actor', **result}, lambda: (
        f'actor B={envs}: {result["frames_per_second"]:.1f} frames/s '
        f'({result["env_steps_per_second"]:.2f} env steps/s, '
        f'{result["searches_per_second"]:.2f} searches/s; compile {result["compile_s"]:.1f} s, '
        f'timed {result["timed_s"]:.1f} s)'))
  for batch_size in batch_sizes:
    result = learner_bench.measure_learner(dataclasses.replace(config, batch_size=batch_size),
                                           environment_id, args.learner_steps, args.warmup_steps)
    harness.report(args.json, {'part': 'learner', **result}, lambda: (
        f'learner batch={batch_size}: {result["learner_steps_per_second"]:.3f} steps/s '
        f'({1.0 / result["learner_steps_per_second"]:.2f} s/step, '
        f'{result["sequences_per_second"]:.1f} sequences/s; {args.warmup_steps} warm-up '
        f'steps with tracing {result["trace_s"]:.1f} s, {args.learner_steps} timed steps)'))


if __name__ == '__main__':
  harness.run(define_flags, main)
