"""Benchmark of learning: wall-clock and environment steps until MuZero solves CartPole-v1.

Single process by default (`agents.muzero.agent.MuZero` with `agents.muzero.config.cartpole()`):
one actor steps `--num_envs` CartPole-v1 environments in lock-step with one batched search per step,
and the learner runs the steps the observations pay for (samples_per_insert). Every
`--eval_every_s` seconds of training, a greedy evaluator (no root noise, most-visited action)
with the learner's latest weights plays 10 episodes, one per environment; CartPole-v1 counts as
solved when their mean return is >= 475. Evaluation time is included in the wall clock.

A return that reaches 475 once may fall back at the next evaluation, so the run does not stop at
the first solve: it trains `--hold_s` seconds more, still evaluating, and says whether every
evaluation in that window stayed >= 475 (`held`). The budget stops the run in any case (then
`held` is None if the window was not over and no evaluation had fallen below 475 yet). Both
paths apply the distributed monitor's `launch.monitor.StoppingRule` and report from a
`launch.status.Status`.

Outputs: terminal progress; Acme CSV and TensorBoard logs of actor and learner under
`--output_dir`; the learning curve there as `learning_curve.png` (the path is printed); with
`--json`, the last stdout line is {"solved": ..., "first_solved_s": ...,
"first_solved_env_steps": ..., "first_solved_learner_steps": ..., "held": ..., "wall_s": ...,
"env_steps": ..., "learner_steps": ..., "final_eval_return": ...}: `solved` says 475 was reached
at least once, the first_solved_* figures (None if never) say when.

With `--distributed`, the same measurement for `make run`'s program instead: `launch.local`
under local_mp with its defaults (`--num_actors`, 1 as in make run; the CartPole preset), 10 evaluation
episodes every `--eval_every_s` seconds, `--hold_s` passed on to its monitor; figures come from its
status.json and the curve is the one it saves.

  python -m bench.learn_cartpole [--distributed] [--time_budget_s=1800] [--hold_s=120] [--seed=0]
      [--config_overrides=td_steps=10,target_update_period=100] [--json]
"""

import json
import os
import time
from typing import Any, Callable, Dict, List, Tuple

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from agents.muzero import actor as actor_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import make_environment  # pylint: disable=g-import-not-at-top,wrong-import-position
from launch import curves  # pylint: disable=g-import-not-at-top,wrong-import-position
from launch import monitor as monitor_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from launch import status as status_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

SOLVED_RETURN = 475.0
NUM_EVAL_EPISODES = 10


def stopping_rule(time_budget_s: float, hold_s: float,
                  solved_return: float = SOLVED_RETURN) -> monitor_lib.StoppingRule:
  """The budget, the solved return and the hold window after it, as the monitor applies them."""
  return monitor_lib.StoppingRule(max_seconds=time_budget_s, target_eval_return=solved_return,
                                  hold_s=hold_s)


def status_from_rows(rows: List[Dict[str, float]], rule: monitor_lib.StoppingRule) -> status_lib.Status:
  """The status the monitor would hold after seeing these evaluations (wall_s, env_steps,
  learner_steps, eval_return each), the last one just now."""
  status = status_lib.Status()
  for row in rows:
    status.wall_s, status.env_steps, status.learner_steps = (
        row['wall_s'], row['env_steps'], row['learner_steps'])
    rule.record_evaluation(status, row['learner_steps'], row['eval_return'])
  status.held = rule.held(status)
  return status


def summarize(status: status_lib.Status) -> Dict[str, Any]:
  """The JSON summary of a run's last status, whichever path ran it."""
  return {'solved': status.first_target_s is not None,
          'first_solved_s': None if status.first_target_s is None else round(status.first_target_s, 1),
          'first_solved_env_steps': status.first_target_env_steps,
          'first_solved_learner_steps': status.first_target_learner_steps,
          'held': status.held, 'wall_s': round(status.wall_s, 1), 'env_steps': status.env_steps,
          'learner_steps': status.learner_steps, 'final_eval_return': status.last_eval_return}


def learn_distributed(args, output_dir: str) -> Tuple[status_lib.Status, str]:
  """Runs `launch.local` (local_mp) until it stops; returns its last status and its curve's path."""
  launch_flags = ['--env=gym:CartPole-v1', '--launch_type=local_mp', f'--num_actors={args.num_actors}',
                  f'--seed={args.seed}', f'--target_eval_return={SOLVED_RETURN}',
                  f'--hold_s={args.hold_s}', f'--max_seconds={args.time_budget_s}',
                  f'--eval_episodes={NUM_EVAL_EPISODES}', f'--eval_period_s={args.eval_every_s}']
  if args.num_envs:
    launch_flags.append(f'--envs_per_actor={args.num_envs}')
  if args.config_overrides:
    launch_flags.append(f'--config_overrides={args.config_overrides}')
  if args.num_reanalyzers:
    launch_flags.append(f'--num_reanalyzers={args.num_reanalyzers}')
  last_evaluation = [(None, None)]

  def print_new_evaluation(status: status_lib.Status) -> None:
    evaluation = (status.last_eval_learner_steps, status.last_eval_return)
    if status.last_eval_return is not None and evaluation != last_evaluation[0]:
      last_evaluation[0] = evaluation
      row = {'wall_s': round(status.wall_s, 1), 'env_steps': status.env_steps,
             'learner_steps': status.last_eval_learner_steps, 'eval_return': status.last_eval_return}
      print(f'[eval] {json.dumps(row)}', flush=True)

  status = harness.run_launcher(launch_flags, output_dir, print_new_evaluation)
  return status, os.path.join(output_dir, curves.CURVE_FILE)


def learn_single_process(args, output_dir: str, environment_id: str = 'gym:CartPole-v1',
                         preset: Callable[[], config_lib.MuZeroConfig] = config_lib.cartpole,
                         solved_return: float = SOLVED_RETURN) -> Tuple[status_lib.Status, str]:
  """Trains `agents.muzero.agent.MuZero` (the `preset` with `args.config_overrides`) on
  `environment_id` until the rule stops it; returns the last status and the path of the curve
  it saves."""
  config = config_lib.with_overrides(preset(), args.config_overrides)
  agent, loop, evaluator = harness.make_self_play(
      environment_id, config, args.num_envs or config.envs_per_actor, NUM_EVAL_EPISODES,
      args.seed, output_dir)
  eval_environments = [make_environment(environment_id, seed=10**6 + args.seed * 1000 + index)
                       for index in range(NUM_EVAL_EPISODES)]

  def evaluate():
    evaluator.update_and_wait()
    returns = actor_lib.run_one_episode_each(evaluator, eval_environments)
    return {'eval_return': float(np.mean(returns)), 'eval_min': float(np.min(returns))}

  rule = stopping_rule(args.time_budget_s, args.hold_s, solved_return)
  rows = harness.train_and_evaluate(
      agent, loop, evaluate, args.eval_every_s, args.time_budget_s,
      stop=lambda rows: rule.reason_to_stop(status_from_rows(rows, rule)) is not None)
  agent.close()
  curve_path = curves.save_curve(rows, output_dir, 'eval_return',
                                 f'greedy return (mean of {NUM_EVAL_EPISODES})',
                                 f'MuZero on {environment_id.partition(":")[2]}',
                                 target=solved_return)
  return status_from_rows(rows, rule), curve_path


def define_flags() -> None:
  """The command line of `python -m bench.learn_cartpole`."""
  harness.define_learning_flags('cartpole', 'td_steps=10,target_update_period=100',
                                time_budget_s=1800.0, hold_s=120.0,
                                output_dir='runs/learn_cartpole/<mode>-<seed>-<time>')
  flags.DEFINE_integer('num_actors', 1, 'Actor nodes of the distributed run (default: 1, as make '
                       'run).', lower_bound=1)
  flags.DEFINE_integer('num_reanalyzers', 0, 'Reanalyzer nodes of the distributed run '
                       '(launch.local --num_reanalyzers).', lower_bound=0)
  flags.DEFINE_bool('distributed', False, 'Measure the Launchpad program of `make run` instead of '
                    'one process.')


def main(args) -> None:
  print(f'command: {harness.command_line("bench.learn_cartpole")}', flush=True)
  mode = 'distributed' if args.distributed else 'single'
  output_dir = args.output_dir or os.path.join(
      'runs', 'learn_cartpole', f'{mode}-{args.seed}-{time.strftime("%Y%m%d-%H%M%S")}')
  if not args.distributed:
    os.makedirs(output_dir, exist_ok=True)
  status, curve_path = (learn_distributed if args.distributed else learn_single_process)(args, output_dir)
  print(f'learning curve: {curve_path}; logs: {output_dir}', flush=True)
  print(('' if args.json else 'summary: ') + json.dumps(summarize(status)), flush=True)


if __name__ == '__main__':
  harness.run(define_flags, main)
