"""Throughput of the distributed program under local_mp: env steps/s, learner steps/s, staleness.

    python -m bench.distributed --num_actors=1,2,4 --seconds=120

For each N, runs `launch.local` (CartPole preset) for `--seconds`, reads RUN_DIR/status.json every
2 s, and reports medians over the second half of the run (the first half includes start-up and
compilation): env steps/s, learner steps/s, and the weight staleness (learner step minus the
oldest actor's weights version) as median / 90th percentile / max. With --json, one JSON object
per N and nothing else on stdout.
"""

import os
import tempfile

import numpy as np
from absl import flags

from bench import harness


def measure(num_actors: int, envs_per_actor: int, seconds: int) -> dict:
  run_dir = tempfile.mkdtemp(prefix=f'bench-distributed-{num_actors}-')
  samples = []

  def keep_second_half(status) -> None:
    if status.state == 'running' and status.wall_s > seconds / 2:
      samples.append(status)

  harness.run_launcher(['--launch_type=local_mp', f'--num_actors={num_actors}',
                        f'--envs_per_actor={envs_per_actor}', f'--max_seconds={seconds}',
                        '--env=gym:CartPole-v1'], run_dir, keep_second_half)
  if not samples:
    raise RuntimeError(f'no status samples from {run_dir}; see its logs.')
  staleness = [s.weight_staleness for s in samples if s.weight_staleness is not None]
  return {
      'num_actors': num_actors, 'envs_per_actor': envs_per_actor, 'seconds': seconds,
      'env_steps_per_s': float(np.median([s.env_steps_per_s for s in samples])),
      'learner_steps_per_s': float(np.median([s.learner_steps_per_s for s in samples])),
      'staleness_median': float(np.median(staleness)) if staleness else None,
      'staleness_p90': float(np.percentile(staleness, 90)) if staleness else None,
      'staleness_max': int(max(staleness)) if staleness else None,
      'final_env_steps': samples[-1].env_steps, 'final_learner_steps': samples[-1].learner_steps,
      'run_dir': run_dir,
  }


def define_flags() -> None:
  """The command line of `python -m bench.distributed`."""
  flags.DEFINE_list('num_actors', ['1', '2', '4'], 'Actor counts to measure.')
  flags.DEFINE_integer('envs_per_actor', 16, 'Environments per actor.', lower_bound=1)
  flags.DEFINE_integer('seconds', 120, 'Length of each run.', lower_bound=1)
  harness.define_json_flag(summary=False)


def main(args) -> None:
  command = harness.command_line('bench.distributed')
  if not args.json:
    print(f'# {command}  ({os.cpu_count()} cores, local_mp, CartPole preset)')
    print(f'{"actors":>6} {"envs":>5} {"env steps/s":>12} {"learner steps/s":>16} {"staleness med/p90/max":>22}')
  for count in [int(value) for value in args.num_actors]:
    result = measure(count, args.envs_per_actor, args.seconds)
    staleness = f'{result["staleness_median"]}/{result["staleness_p90"]}/{result["staleness_max"]}'
    harness.report(args.json, result, lambda: (
        f'{count:>6} {result["envs_per_actor"]:>5} {result["env_steps_per_s"]:>12.0f} '
        f'{result["learner_steps_per_s"]:>16.1f} {staleness:>22}'))


if __name__ == '__main__':
  harness.run(define_flags, main)
