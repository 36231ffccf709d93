"""Plays a trained MuZero agent against a fixed opponent at a board game; prints win/draw/loss.

The agent is the greedy actor (no noise, most visited move) of the config RUN_DIR/run.json records
(`config.board_game(GAME)` for a run directory without one, or without --run_dir) with the network
of the latest learner checkpoint in RUN_DIR/learner; without --run_dir the network is untrained,
a baseline. --num_simulations sets the agent's search budget per move (default: the config's),
for matches that search more than self-play could afford. Half the games the agent moves first,
half second; all games advance in lock-step, one batched search per ply
(`agents.muzero.arena.play_games`). Opponents (`environments.opponents`): minimax (perfect play,
small games only), random (uniform), mcts (OpenSpiel's MCTSBot, random rollouts, uct_c = 2,
--mcts_simulations per move).

  python -m bench.play --run_dir=RUN_DIR --game=tic_tac_toe --opponent=minimax --num_games=100
  python -m bench.play --run_dir=RUN_DIR --game=connect_four --opponent=mcts --mcts_simulations=1000
      --num_simulations=400
"""

import os
import time
from typing import Optional, Tuple

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import tensorflow as tf  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from acme import specs  # pylint: disable=g-import-not-at-top,wrong-import-position

import networks  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import arena  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import builder as builder_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from agents.muzero import config as config_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from bench import harness  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import openspiel  # pylint: disable=g-import-not-at-top,wrong-import-position
from environments import opponents  # pylint: disable=g-import-not-at-top,wrong-import-position
from launch import run_record  # pylint: disable=g-import-not-at-top,wrong-import-position


def restore_network(network: networks.MuZeroNetwork, run_dir: str) -> Tuple[str, int]:
  """Loads the network of the latest learner checkpoint of `run_dir`; returns (path, learner step).

  Only the network (and the step, to report it) is read; the optimizer's slots are left out.
  Raises ValueError when there is no checkpoint or it holds a network of another shape.
  """
  directory = os.path.join(run_dir, 'learner')
  path = tf.train.latest_checkpoint(directory)
  if path is None:
    raise ValueError(f'--run_dir={run_dir!r} has no learner checkpoint in {directory!r}; allowed: '
                     'the run directory of a launch.local run (or omit --run_dir to play an '
                     'untrained network).')
  learner_steps = tf.Variable(0, dtype=tf.int64)
  try:
    tf.train.Checkpoint(network=network, learner_steps=learner_steps).restore(
        path).expect_partial().assert_existing_objects_matched()
  except (AssertionError, ValueError) as error:
    raise ValueError(f'the checkpoint {path!r} does not hold a network of the agent\'s config '
                     f'({error}); was the run trained on another game or config?') from error
  return path, int(learner_steps.numpy())


def agent_config(game: str, run_dir: Optional[str]) -> config_lib.MuZeroConfig:
  """The config the run in `run_dir` recorded, or the game's preset when there is no record.

  Raises ValueError when the record is of another environment than openspiel:`game`.
  """
  record = None if run_dir is None else run_record.read(run_dir)
  if record is None:
    return config_lib.board_game(game)
  if record['environment'] != f'openspiel:{game}':
    raise ValueError(f'--run_dir={run_dir!r} is a run of {record["environment"]!r}, not of '
                     f'--game={game!r}; allowed: --game of the run (openspiel:GAME).')
  return run_record.recorded_config(record)


def make_actor(game: str, num_games: int, run_dir: Optional[str], seed: int,
               num_simulations: Optional[int] = None):
  """A greedy actor for `num_games` games and a line saying whose weights it plays with.

  `num_simulations` replaces the config's search budget per move when given.
  """
  environment = openspiel.OpenSpielEnvironment(openspiel.load_two_player_game(game))
  config = agent_config(game, run_dir)
  if num_simulations is not None:
    config = config_lib.with_overrides(config, **{'search.num_simulations': num_simulations})
  builder = builder_lib.MuZeroBuilder(config, specs.make_environment_spec(environment))
  tf.random.set_seed(seed)  # The untrained network's weights: a reproducible baseline.
  network = builder.make_network()
  if run_dir is None:
    origin = 'agent: UNTRAINED network (no --run_dir), a baseline'
  else:
    path, learner_steps = restore_network(network, run_dir)
    origin = f'agent: {path} (learner step {learner_steps})'
  actor = builder.make_actor(network, num_environments=num_games, greedy=True, seed=seed)
  return actor, f'{origin}, {builder.config.search.num_simulations} simulations per move, greedy'


def define_flags() -> None:
  """The command line of `python -m bench.play`."""
  flags.DEFINE_string('run_dir', None, 'Run directory of a launch.local run; omit to play an '
                      'untrained network.')
  harness.define_opponent_flags()
  flags.DEFINE_integer('num_games', 100, 'Games in all, half with the agent moving first.',
                       lower_bound=1)
  flags.DEFINE_integer('num_simulations', None, "The agent's simulations per move; default: the "
                       "run's config.", lower_bound=1)
  flags.DEFINE_integer('seed', 0, "Seeds the opponent, the search and an untrained network's "
                       'weights.')


def main(args) -> None:
  print(f'command: {harness.command_line("bench.play")}')
  try:
    game = openspiel.load_two_player_game(args.game)
    opponent = opponents.make_opponent(args.opponent, game, seed=args.seed,
                                       mcts_simulations=args.mcts_simulations)
    actor, origin = make_actor(args.game, args.num_games, args.run_dir, args.seed,
                               args.num_simulations)
  except ValueError as error:
    raise app.UsageError(str(error)) from error
  print(origin)
  start = time.time()
  result = arena.play_games(actor, game, opponent, args.num_games)
  print(result)
  print(f'{time.time() - start:.1f} s, compiling the search included')


if __name__ == '__main__':
  harness.run(define_flags, main)
