"""Benchmark of learning: wall-clock and environment steps until MuZero solves CartPole-v1.

Single process by default (`agents.muzero.agent.MuZero` with `agents.muzero.config.cartpole()`):
one actor steps `--num_envs` CartPole-v1 environments in lock-step with one batched search per step,
and the learner runs the steps the observations pay for (samples_per_insert). Every
`--eval_every_s` seconds of training, a greedy evaluator (no root noise, most-visited action)
with the learner's latest weights plays 10 episodes, one per environment; CartPole-v1 counts as
solved when their mean return is >= 475. Evaluation time is included in the wall clock.

Outputs: terminal progress; Acme CSV and TensorBoard logs of actor and learner under
`--output_dir`; the learning curve there as `learning_curve.png` when matplotlib is importable,
else as `learning_curve.csv` (the path is printed); with `--json`, the last stdout line is
{"solved": ..., "wall_s": ..., "env_steps": ..., "learner_steps": ..., "final_eval_return": ...}.

With `--distributed`, the same measurement for `make run`'s program instead: `launch.local`
under local_mp with its defaults (one actor per core, the CartPole preset), 10 evaluation
episodes every `--eval_every_s` seconds, stopping at the target or the budget; figures come from
its status.json.

  python -m bench.learn_cartpole [--distributed] [--time_budget_s=1800] [--seed=0] [--json]
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
from acme import specs  # pylint: disable=g-import-not-at-top,wrong-import-position

from agents.muzero import actor as actor_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import agent as agent_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import loggers as loggers_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import curves  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import make_environment  # pylint: disable=g-import-not-at-top,wrong-import-position
from launch import status as status_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

SOLVED_RETURN = 475.0
NUM_EVAL_EPISODES = 10


def learn_distributed(args, output_dir: str):
  """Runs `launch.local` (local_mp) to the target or the budget; returns (curve rows, summary)."""
  command = [sys.executable, '-m', 'launch.local', '--env=gym:CartPole-v1', '--launch_type=local_mp',
             f'--num_actors={os.cpu_count()}', f'--run_dir={output_dir}', f'--seed={args.seed}',
             f'--target_eval_return={SOLVED_RETURN}', f'--max_seconds={args.time_budget_s}',
             f'--eval_episodes={NUM_EVAL_EPISODES}', f'--eval_period_s={args.eval_every_s}']
  if args.num_envs:
    command.append(f'--envs_per_actor={args.num_envs}')
  process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
  path = os.path.join(output_dir, 'status.json')
  rows, status = [], None
  while process.poll() is None:
    time.sleep(2)
    if not os.path.exists(path):
      continue
    status = status_lib.read_status(path)
    if status.last_eval_return is not None and (not rows or rows[-1]['eval_return'] != status.last_eval_return):
      rows.append({'wall_s': round(status.wall_s, 1), 'env_steps': status.env_steps,
                   'learner_steps': status.learner_steps, 'eval_return': status.last_eval_return})
      print(f'[eval] {rows[-1]}', flush=True)
  status = status_lib.read_status(path)
  solved = status.last_eval_return is not None and status.last_eval_return >= SOLVED_RETURN
  return rows, {'solved': solved, 'wall_s': round(status.wall_s, 1), 'env_steps': status.env_steps,
                'learner_steps': status.learner_steps, 'final_eval_return': status.last_eval_return}


def learn_single_process(args, output_dir: str):
  """Trains `agents.muzero.agent.MuZero` to the target or the budget; returns (curve rows, summary)."""
  tf.random.set_seed(args.seed)
  config = config_lib.cartpole()
  num_envs = args.num_envs or config.envs_per_actor
  environments = [make_environment('gym:CartPole-v1', seed=args.seed * 1000 + index)
                  for index in range(num_envs)]
  eval_environments = [make_environment('gym:CartPole-v1', seed=10**6 + args.seed * 1000 + index)
                       for index in range(NUM_EVAL_EPISODES)]
  spec = specs.make_environment_spec(environments[0])
  agent = agent_lib.MuZero(
      spec, config, num_environments=num_envs, seed=args.seed,
      learner_logger=loggers_lib.make_logger('learner', output_dir, 'learner_steps',
                                             time_delta=30.0))
  loop = actor_lib.BatchedEnvironmentLoop(
      environments, agent,
      logger=loggers_lib.make_logger('actor', output_dir, 'steps', time_delta=15.0))
  evaluator = agent.make_evaluator(num_environments=NUM_EVAL_EPISODES, seed=args.seed)

  start = time.time()
  rows, solved, eval_return = [], False, float('nan')
  while time.time() - start < args.time_budget_s:
    remaining = args.time_budget_s - (time.time() - start)
    loop.run(max_seconds=min(args.eval_every_s, remaining))
    evaluator.update_and_wait()
    returns = actor_lib.run_one_episode_each(evaluator, eval_environments)
    eval_return = float(np.mean(returns))
    row = {'wall_s': round(time.time() - start, 1), 'env_steps': agent.num_observations,
           'learner_steps': agent.learner_steps, 'eval_return': eval_return,
           'eval_min': float(np.min(returns))}
    rows.append(row)
    print(f'[eval] {row}', flush=True)
    if eval_return >= SOLVED_RETURN:
      solved = True
      break
  wall_s = time.time() - start
  summary = {'solved': solved, 'wall_s': round(wall_s, 1), 'env_steps': agent.num_observations,
             'learner_steps': agent.learner_steps, 'final_eval_return': eval_return}
  agent.close()
  return rows, summary


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--time_budget_s', type=float, default=1800.0)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--json', action='store_true',
                      help='make the last stdout line a JSON summary')
  parser.add_argument('--num_envs', type=int, default=None,
                      help='environments per actor (default: the config\'s envs_per_actor)')
  parser.add_argument('--eval_every_s', type=float, default=60.0)
  parser.add_argument('--output_dir', default=None,
                      help='default: runs/learn_cartpole/<seed>-<time>')
  parser.add_argument('--distributed', action='store_true',
                      help='measure the Launchpad program of `make run` instead of one process')
  args = parser.parse_args()
  command = f'python -m bench.learn_cartpole {" ".join(sys.argv[1:])}'.rstrip()
  print(f'command: {command}', flush=True)
  mode = 'distributed' if args.distributed else 'single'
  output_dir = args.output_dir or os.path.join(
      'runs', 'learn_cartpole', f'{mode}-{args.seed}-{time.strftime("%Y%m%d-%H%M%S")}')
  if not args.distributed:
    os.makedirs(output_dir, exist_ok=True)
  rows, summary = (learn_distributed if args.distributed else learn_single_process)(args, output_dir)
  curve_path = curves.save_curve(rows, output_dir, 'eval_return',
                                 f'greedy return (mean of {NUM_EVAL_EPISODES})',
                                 'MuZero on CartPole-v1', target=SOLVED_RETURN)
  print(f'learning curve: {curve_path}; logs: {output_dir}', flush=True)
  print(('' if args.json else 'summary: ') + json.dumps(summary), flush=True)


if __name__ == '__main__':
  main()
