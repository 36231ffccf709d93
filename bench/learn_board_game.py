"""Benchmark of learning a board game: MuZero by self-play, scored against a fixed opponent.

Single process (`agents.muzero.agent.MuZero` with `agents.muzero.config.board_game(game)`): one
actor plays `--num_envs` self-play games in lock-step with one batched search per ply, and the
learner runs the steps the observations pay for. Every `--eval_every_s` seconds of training, a
greedy copy with the learner's latest weights plays `--eval_games` games against the opponent
(`agents.muzero.arena`: half as first player, half as second), and the curve records wins, draws
and losses per seat. Evaluation time counts in the wall clock.

    # Tic-tac-toe: time until the agent never loses to perfect play over 100 games.
    python -m bench.learn_board_game --game=tic_tac_toe --opponent=minimax --eval_games=100 \
        --stop_when_unbeaten --time_budget_s=1200 [--config_overrides=search_policy=gumbel]
    # Connect four: score against OpenSpiel's MCTS (1000 rollouts per move) after 60 minutes.
    python -m bench.learn_board_game --game=connect_four --opponent=mcts --eval_games=20 \
        --time_budget_s=3600 --eval_every_s=3600

Outputs: progress lines; Acme CSV logs, the learner's checkpoint (for `bench.play --run_dir`)
and learning_curve.png under `--output_dir`; with `--json`, the last stdout line is a JSON summary.
"""

import json
import os
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from absl import app  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from agents.muzero import arena  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import openspiel  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import opponents  # pylint: disable=g-import-not-at-top,wrong-import-position
from launch import curves  # pylint: disable=g-import-not-at-top,wrong-import-position
from launch import pinned_stack  # pylint: disable=g-import-not-at-top,wrong-import-position


def learn(args, output_dir: str):
  """Self-play training with periodic matches; returns (curve rows, summary)."""
  game = openspiel.load_two_player_game(args.game)
  config = config_lib.board_game(args.game)
  overrides = {'num_simulations': args.num_simulations,
               'num_exploration_moves': args.num_exploration_moves}
  config = config_lib.with_overrides(
      config, args.config_overrides,
      **{name: value for name, value in overrides.items() if value is not None})
  agent, loop, evaluator = harness.make_self_play(
      f'openspiel:{args.game}', config, args.num_envs or config.envs_per_actor, args.eval_games,
      args.seed, output_dir, checkpoint=True)
  opponent = opponents.make_opponent(args.opponent, game, seed=args.seed,
                                     mcts_simulations=args.mcts_simulations)
  results = []

  def evaluate():
    evaluator.update_and_wait()
    results.append(arena.play_games(evaluator, game, opponent, args.eval_games))
    agent.learner.save_checkpoint()
    return {'mean_score': round(results[-1].mean_score, 3), **results[-1].counts()}

  unbeaten = lambda result: -1 not in result.scores
  rows = harness.train_and_evaluate(
      agent, loop, evaluate, args.eval_every_s, args.time_budget_s,
      stop=lambda rows: args.stop_when_unbeaten and unbeaten(results[-1]))
  print(results[-1], flush=True)
  summary = {'game': args.game, 'opponent': args.opponent, 'unbeaten': unbeaten(results[-1]),
             **rows[-1]}
  agent.close()
  return rows, summary


def define_flags() -> None:
  """The command line of `python -m bench.learn_board_game`."""
  harness.define_opponent_flags()
  flags.DEFINE_integer('eval_games', 100, 'Games per evaluation, half with the agent moving first.',
                       lower_bound=1)
  flags.DEFINE_float('eval_every_s', 60.0, 'Seconds of training between two evaluations.')
  flags.DEFINE_float('time_budget_s', 1200.0, 'Seconds of the whole run, evaluations included.')
  flags.DEFINE_bool('stop_when_unbeaten', False, 'Stop at the first evaluation without a loss.')
  flags.DEFINE_integer('num_envs', None, "Self-play games in lock-step (default: the preset's "
                       'envs_per_actor).', lower_bound=1)
  flags.DEFINE_integer('num_simulations', None, "Search simulations per move (default: the "
                       "preset's).", lower_bound=1)
  flags.DEFINE_integer('num_exploration_moves', None, 'Moves per game sampled from visit counts '
                       "before argmax (default: the preset's, the paper's 30).", lower_bound=1)
  flags.DEFINE_integer('seed', 0, 'Seeds the environments, the network, the search and the '
                       'opponent.')
  harness.define_config_overrides_flag(
      'board_game', 'search_policy=gumbel,num_simulations=8',
      note='; --num_simulations and --num_exploration_moves win over it')
  harness.define_json_flag(summary=True)
  flags.DEFINE_string('output_dir', None, 'Default: runs/learn_board_game/<game>-<seed>-<time>.')


def main(args) -> None:
  if args.eval_every_s <= 0 or args.time_budget_s <= 0:
    raise app.UsageError(f'--eval_every_s={args.eval_every_s} and --time_budget_s='
                         f'{args.time_budget_s} are not allowed; both must be > 0.')
  try:
    openspiel.load_two_player_game(args.game)
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  print(f'command: {harness.command_line("bench.learn_board_game")}', flush=True)
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
  harness.run(define_flags, main)
