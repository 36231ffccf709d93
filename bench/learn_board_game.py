"""Benchmark of learning a board game: MuZero by self-play, scored against a fixed opponent.

Single process (`agents.muzero.agent.MuZero` with `agents.muzero.config.board_game(game)`): one
actor plays `--num_envs` self-play games in lock-step with one batched search per ply, and the
learner runs the steps the observations pay for. Every `--eval_every_s` seconds of training, a
greedy copy with the learner's latest weights plays `--eval_games` games against the opponent
(`agents.muzero.arena`: half as first player, half as second), and the curve records wins, draws
and losses per seat. Evaluation time counts in the wall clock.

    # Tic-tac-toe: time until the agent never loses to perfect play over 100 games.
    python -m bench.learn_board_game --game=tic_tac_toe --opponent=minimax --eval_games=100 \
        --stop_when_unbeaten --time_budget_s=1200
    # Connect four: score against OpenSpiel's MCTS (1000 rollouts per move) after 60 minutes.
    python -m bench.learn_board_game --game=connect_four --opponent=mcts --eval_games=20 \
        --time_budget_s=3600 --eval_every_s=3600

Outputs: progress lines; Acme CSV logs, the learner's checkpoint (for `bench.play --run_dir`)
and learning_curve.png under `--output_dir`; with `--json`, the last stdout line is a JSON summary.
"""

import argparse
import dataclasses
import json
import os
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
from acme import specs  # pylint: disable=g-import-not-at-top,wrong-import-position

from agents.muzero import actor as actor_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import agent as agent_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import arena  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import loggers as loggers_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import make_environment  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import openspiel  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import opponents  # pylint: disable=g-import-not-at-top,wrong-import-position
from launch import curves  # pylint: disable=g-import-not-at-top,wrong-import-position
from launch import pinned_stack  # pylint: disable=g-import-not-at-top,wrong-import-position


def learn(args, output_dir: str):
  """Self-play training with periodic matches; returns (curve rows, summary)."""
  tf.random.set_seed(args.seed)
  game = openspiel.load_two_player_game(args.game)
  config = config_lib.board_game(args.game)
  overrides = {'num_simulations': args.num_simulations,
               'num_exploration_moves': args.num_exploration_moves}
  config = dataclasses.replace(
      config, **{name: value for name, value in overrides.items() if value is not None})
  num_envs = args.num_envs or config.envs_per_actor
  environments = [make_environment(f'openspiel:{args.game}', seed=args.seed * 1000 + index)
                  for index in range(num_envs)]
  agent = agent_lib.MuZero(
      specs.make_environment_spec(environments[0]), config, num_environments=num_envs,
      seed=args.seed, checkpoint_directory=os.path.join(output_dir, 'learner'),
      learner_logger=loggers_lib.make_logger('learner', output_dir, 'learner_steps',
                                             time_delta=30.0))
  loop = actor_lib.BatchedEnvironmentLoop(
      environments, agent, logger=loggers_lib.make_logger('actor', output_dir, 'steps',
                                                          time_delta=30.0))
  evaluator = agent.make_evaluator(num_environments=args.eval_games, seed=args.seed)
  opponent = opponents.make_opponent(args.opponent, game, seed=args.seed,
                                     mcts_simulations=args.mcts_simulations)
  start = time.time()
  rows = []
  while time.time() - start < args.time_budget_s:
    loop.run(max_seconds=min(args.eval_every_s, args.time_budget_s - (time.time() - start)))
    evaluator.update_and_wait()
    result = arena.play_games(evaluator, game, opponent, args.eval_games)
    row = {'wall_s': round(time.time() - start, 1), 'env_steps': agent.num_observations,
           'learner_steps': agent.learner_steps, 'mean_score': round(result.mean_score, 3)}
    row.update(result.counts())
    rows.append(row)
    print(f'[eval] {json.dumps(row)}', flush=True)
    agent.learner.save_checkpoint()
    unbeaten = -1 not in result.scores
    if args.stop_when_unbeaten and unbeaten:
      break
  print(result, flush=True)
  summary = {'game': args.game, 'opponent': args.opponent, 'unbeaten': unbeaten, **rows[-1]}
  agent.close()
  return rows, summary


def _positive(kind):
  def parse(text):
    value = kind(text)
    if value <= 0:
      raise argparse.ArgumentTypeError(f'{value} is not allowed; it must be > 0.')
    return value
  return parse


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--game', default='tic_tac_toe', help='OpenSpiel game name')
  parser.add_argument('--opponent', default='minimax', choices=opponents.OPPONENTS)
  parser.add_argument('--mcts_simulations', type=_positive(int), default=1000,
                      help='simulations per move of the mcts opponent')
  parser.add_argument('--eval_games', type=_positive(int), default=100,
                      help='games per evaluation, half with the agent moving first')
  parser.add_argument('--eval_every_s', type=_positive(float), default=60.0)
  parser.add_argument('--time_budget_s', type=_positive(float), default=1200.0)
  parser.add_argument('--stop_when_unbeaten', action='store_true',
                      help='stop at the first evaluation without a loss')
  parser.add_argument('--num_envs', type=_positive(int), default=None,
                      help="self-play games in lock-step (default: the preset's envs_per_actor)")
  parser.add_argument('--num_simulations', type=_positive(int), default=None,
                      help="search simulations per move (default: the preset's)")
  parser.add_argument('--num_exploration_moves', type=_positive(int), default=None,
                      help="moves per game sampled from visit counts before argmax (default: the "
                      "preset's, the paper's 30)")
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--json', action='store_true', help='make the last stdout line a JSON summary')
  parser.add_argument('--output_dir', default=None,
                      help='default: runs/learn_board_game/<game>-<seed>-<time>')
  args = parser.parse_args()
  try:
    openspiel.load_two_player_game(args.game)
  except ValueError as error:
    parser.error(str(error))
  print(f'command: python -m bench.learn_board_game {" ".join(sys.argv[1:])}'.rstrip(), flush=True)
  output_dir = args.output_dir or os.path.join(
      'runs', 'learn_board_game', f'{args.game}-{args.seed}-{time.strftime("%Y%m%d-%H%M%S")}')
  os.makedirs(output_dir, exist_ok=True)
  rows, summary = learn(args, output_dir)
  path = curves.save_curve(rows, output_dir, 'mean_score',
                           f'score vs {args.opponent} (+1 win, 0 draw, -1 loss)',
                           f'MuZero on {args.game}', target=0.0)
  print(f'learning curve: {path}; logs and checkpoint: {output_dir}', flush=True)
  print(('' if args.json else 'summary: ') + json.dumps(summary), flush=True)
  # The agent's Reverb dataset iterators could block interpreter teardown.
  pinned_stack.exit_without_teardown(0)


if __name__ == '__main__':
  main()
