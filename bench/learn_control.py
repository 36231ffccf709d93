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

import json
import os
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import app  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import learn_cartpole  # pylint: disable=g-import-not-at-top,wrong-import-position

# Greedy mean returns that count as solved, per environment id.
TARGET_RETURNS = {'gym:Pendulum-v1': -200.0, 'gym:MountainCarContinuous-v0': 90.0,
                  'gym:InvertedPendulum-v5': 950.0}


def define_flags() -> None:
  """The command line of `python -m bench.learn_control`."""
  flags.DEFINE_string('env', 'gym:Pendulum-v1', f'One of {sorted(TARGET_RETURNS)}, or any '
                      'continuous-action id with --target_return.')
  flags.DEFINE_float('target_return', None, 'Greedy mean return that counts as solved '
                     '(default: per environment).')
  harness.define_learning_flags('continuous_control', 'num_sampled_actions=16',
                                time_budget_s=900.0, hold_s=0.0,
                                output_dir='runs/learn_control/<env>-<seed>-<time>')


def main(args) -> None:
  target = args.target_return if args.target_return is not None else TARGET_RETURNS.get(args.env)
  if target is None:
    raise app.UsageError(f'--env={args.env!r} has no default target; allowed: '
                         f'{sorted(TARGET_RETURNS)}, or give --target_return.')
  print(f'command: {harness.command_line("bench.learn_control")}', flush=True)
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
  harness.run(define_flags, main)
