"""Throughput of the distributed program under local_mp: env steps/s, learner steps/s, staleness.

    python -m bench.distributed --num_actors=1,2,4 --seconds=120

For each N, runs `launch.local` (CartPole preset) for `--seconds`, reads RUN_DIR/status.json every
2 s, and reports medians over the second half of the run (the first half includes start-up and
compilation): env steps/s, learner steps/s, and the weight staleness (learner step minus the
oldest actor's weights version) as median / 90th percentile / max. With --json, one JSON object
per N and nothing else on stdout.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from absl import app
from absl import flags

from launch import status as status_lib

_NUM_ACTORS = flags.DEFINE_list('num_actors', ['1', '2', '4'], 'Actor counts to measure.')
_ENVS_PER_ACTOR = flags.DEFINE_integer('envs_per_actor', 16, 'Environments per actor.')
_SECONDS = flags.DEFINE_integer('seconds', 120, 'Length of each run.')
_JSON = flags.DEFINE_bool('json', False, 'Print one JSON object per run and nothing else.')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(num_actors: int, envs_per_actor: int, seconds: int) -> dict:
  run_dir = tempfile.mkdtemp(prefix=f'bench-distributed-{num_actors}-')
  command = [sys.executable, '-m', 'launch.local', '--launch_type=local_mp', f'--run_dir={run_dir}',
             f'--num_actors={num_actors}', f'--envs_per_actor={envs_per_actor}',
             f'--max_seconds={seconds}', '--env=gym:CartPole-v1']
  process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  samples = []
  path = os.path.join(run_dir, 'status.json')
  while process.poll() is None:
    time.sleep(2)
    if os.path.exists(path):
      status = status_lib.read_status(path)
      if status.state == 'running' and status.wall_s > seconds / 2:
        samples.append(status)
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


def main(argv):
  del argv
  command = 'python -m bench.distributed ' + ' '.join(sys.argv[1:])
  if not _JSON.value:
    print(f'# {command}  ({os.cpu_count()} cores, local_mp, CartPole preset)')
    print(f'{"actors":>6} {"envs":>5} {"env steps/s":>12} {"learner steps/s":>16} {"staleness med/p90/max":>22}')
  for count in [int(value) for value in _NUM_ACTORS.value]:
    result = measure(count, _ENVS_PER_ACTOR.value, _SECONDS.value)
    if _JSON.value:
      print(json.dumps(result), flush=True)
    else:
      staleness = f'{result["staleness_median"]}/{result["staleness_p90"]}/{result["staleness_max"]}'
      print(f'{count:>6} {result["envs_per_actor"]:>5} {result["env_steps_per_s"]:>12.0f} '
            f'{result["learner_steps_per_s"]:>16.1f} {staleness:>22}', flush=True)


if __name__ == '__main__':
  app.run(main)
