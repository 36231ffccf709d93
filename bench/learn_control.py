"""Benchmark of learning with continuous actions (Sampled MuZero): time and environment steps
until the greedy agent solves a continuous-control task.

Single process: `agents.muzero.agent.MuZero` with `agents.muzero.config.continuous_control()`
(overridable with `--config_overrides`, e.g. `num_sampled_actions=16` for the K side by side),
one actor stepping `--num_envs` environments in lock-step with one batched Sampled MuZero search
per step, and the learner running the steps the observations pay for. Every `--eval_every_s`
seconds a greedy evaluator (no root noise, most visited of its sampled actions) plays 10
episodes with the latest weights; the task counts as solved when their mean return reaches the
target (Pendulum-v1: -200). The run stops at the first solve (`--hold_s` 0; more trains on and
says whether it held) or at the budget. Evaluation time is included in the wall clock. The loop
is `bench.learn_cartpole`'s, with its outputs (CSV and TensorBoard logs, `learning_curve.png`).

  python -m bench.learn_control --env=gym:Pendulum-v1 --time_budget_s=900 --json
      [--seed=0] [--config_overrides=num_sampled_actions=16] [--target_return=-200]

With `--json` the last stdout line is {"solved", "wall_s", "env_steps", "final_eval_return",
"first_solved_s", "first_solved_env_steps", "learner_steps", ...}.
"""

import argparse
import json
import os
import sys
import time

from agents.muzero import config as config_lib
from bench import learn_cartpole

# Greedy mean returns that count as solved, per environment id.
TARGET_RETURNS = {'gym:Pendulum-v1': -200.0, 'gym:MountainCarContinuous-v0': 90.0,
                  'gym:InvertedPendulum-v5': 950.0}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--env', default='gym:Pendulum-v1', help=f'one of {sorted(TARGET_RETURNS)} '
                      'or any continuous-action id with --target_return')
  parser.add_argument('--target_return', type=float, default=None,
                      help='greedy mean return that counts as solved (default: per environment)')
  parser.add_argument('--time_budget_s', type=float, default=900.0)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--json', action='store_true', help='make the last stdout line a JSON summary')
  parser.add_argument('--num_envs', type=int, default=None,
                      help="environments per actor (default: the config's envs_per_actor)")
  parser.add_argument('--eval_every_s', type=float, default=60.0)
  parser.add_argument('--hold_s', type=float, default=0.0,
                      help='seconds of training after the first solve, to see whether it holds')
  parser.add_argument('--output_dir', default=None, help='default: runs/learn_control/<env>-<seed>-<time>')
  parser.add_argument('--config_overrides', default='',
                      help='fields of the continuous_control() preset to change '
                           '(agents.muzero.config.with_overrides)')
  args = parser.parse_args()
  target = args.target_return if args.target_return is not None else TARGET_RETURNS.get(args.env)
  if target is None:
    parser.error(f'--env={args.env!r} has no default target; allowed: {sorted(TARGET_RETURNS)}, or '
                 'give --target_return.')
  print(f'command: python -m bench.learn_control {" ".join(sys.argv[1:])}'.rstrip(), flush=True)
  output_dir = args.output_dir or os.path.join(
      'runs', 'learn_control',
      f'{args.env.replace(":", "-")}-{args.seed}-{time.strftime("%Y%m%d-%H%M%S")}')
  os.makedirs(output_dir, exist_ok=True)
  status, curve_path = learn_cartpole.learn_single_process(
      args, output_dir, args.env, config_lib.continuous_control, target)
  print(f'learning curve: {curve_path}; logs: {output_dir}', flush=True)
  print(('' if args.json else 'summary: ') + json.dumps(learn_cartpole.summarize(status)),
        flush=True)


if __name__ == '__main__':
  main()
