"""Benchmark of the MuZero actor: CartPole-v1 environment steps per second for B environments.

Workload: `agents.muzero.config.cartpole()` network (MLP, latent 64, width 64, 41-bin supports),
50 simulations per search, B CartPole-v1 environments stepped in lock-step by one actor with one
batched search per step, every step written through one ReplayWriter per environment to an
in-process Reverb table (initial priorities included). No learner: the weights stay random.
Compilation (the first steps) is excluded; the figure is environment steps (summed over the B
environments) per wall-clock second over `--seconds`.

  python -m bench.actor [--batch_sizes=1,16,64] [--num_simulations=50] [--seconds=10] [--json]
"""

import os
import sys
import time
from typing import Optional

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import reverb  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from acme import specs  # pylint: disable=g-import-not-at-top,wrong-import-position
from acme.utils import loggers  # pylint: disable=g-import-not-at-top,wrong-import-position

from agents.muzero import actor as actor_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import builder as builder_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import make_environment  # pylint: disable=g-import-not-at-top,wrong-import-position


def measure(batch_size: int, num_simulations: int, seconds: float, seed: int = 0,
            environment_id: str = 'gym:CartPole-v1',
            config: Optional[config_lib.MuZeroConfig] = None) -> dict:
  """Environment steps per second of one actor driving `batch_size` environments.

  `config` defaults to the CartPole preset; its `num_simulations` is replaced by the argument.
  """
  config = config_lib.with_overrides(config or config_lib.cartpole(),
                                     num_simulations=num_simulations)
  environments = [make_environment(environment_id, seed=seed + index)
                  for index in range(batch_size)]
  builder = builder_lib.MuZeroBuilder(config, specs.make_environment_spec(environments[0]))
  server = reverb.Server(builder.make_replay_tables(single_process=True), port=None)
  client = reverb.Client(f'localhost:{server.port}')
  actor = builder.make_actor(builder.make_network(),
                             [builder.make_adder(client) for _ in range(batch_size)],
                             num_environments=batch_size, seed=seed)
  loop = actor_lib.BatchedEnvironmentLoop(environments, actor, logger=loggers.NoOpLogger())
  start = time.time()
  loop.run(num_steps=2 * batch_size)  # Compiles the search.
  compile_s = time.time() - start
  start = time.time()
  steps = 0
  while time.time() - start < seconds:
    loop.run(num_steps=batch_size)
    steps += batch_size
  elapsed = time.time() - start
  actor.close()  # Before the server stops: adders flush when closed.
  server.stop()
  return {'batch_size': batch_size, 'num_simulations': num_simulations,
          'env_steps_per_second': steps / elapsed,
          'searches_per_second': steps / batch_size / elapsed,
          'compile_s': compile_s, 'timed_s': elapsed}


def define_flags() -> None:
  """The command line of `python -m bench.actor`."""
  flags.DEFINE_list('batch_sizes', ['1', '16', '64'], 'Environments of the actor, one run each.')
  flags.DEFINE_integer('num_simulations', 50, 'Simulations per search.', lower_bound=1)
  flags.DEFINE_float('seconds', 10.0, 'Timed seconds per batch size.')
  harness.define_json_flag(summary=False)


def main(args) -> None:
  print(f'command: {harness.command_line("bench.actor")}', file=sys.stderr)
  for batch_size in (int(b) for b in args.batch_sizes):
    result = measure(batch_size, args.num_simulations, args.seconds)
    harness.report(args.json, result, lambda: (
        f'B={batch_size:3d} sims={args.num_simulations}: '
        f'{result["env_steps_per_second"]:8.1f} env steps/s '
        f'({result["searches_per_second"]:.1f} searches/s, compile {result["compile_s"]:.1f} s, '
        f'timed {result["timed_s"]:.1f} s)'))


if __name__ == '__main__':
  harness.run(define_flags, main)
