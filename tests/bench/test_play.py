"""bench.play: restoring a run's network, and flag errors that name the value and what is allowed."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from acme import specs

from agents.muzero import actor as actor_lib
from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib
from bench import play
from environments import openspiel
from launch import run_record

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_network(game: str):
  environment = openspiel.OpenSpielEnvironment(openspiel.load_two_player_game(game))
  builder = builder_lib.MuZeroBuilder(config_lib.board_game(game),
                                      specs.make_environment_spec(environment))
  return builder.make_network()


def save_learner_checkpoint(network, run_dir: str, learner_steps: int) -> None:
  """What the learner writes: network, optimizer and step in RUN_DIR/learner."""
  checkpoint = tf.train.Checkpoint(network=network, optimizer=tf.Module(),
                                   learner_steps=tf.Variable(learner_steps, dtype=tf.int64))
  tf.train.CheckpointManager(checkpoint, os.path.join(run_dir, 'learner'), max_to_keep=1).save(
      checkpoint_number=learner_steps)


def test_restore_network_loads_the_weights_and_step_of_the_latest_checkpoint(tmp_path):
  trained = make_network('tic_tac_toe')
  for variable in trained.variables:
    variable.assign(tf.random.normal(variable.shape, seed=1))
  save_learner_checkpoint(trained, str(tmp_path), learner_steps=42)

  fresh = make_network('tic_tac_toe')
  path, learner_steps = play.restore_network(fresh, str(tmp_path))
  assert (os.path.basename(path), learner_steps) == ('ckpt-42', 42)
  for restored, saved in zip(fresh.variables, trained.variables):
    np.testing.assert_array_equal(restored.numpy(), saved.numpy())


def test_restore_network_errors_name_the_run_dir_and_the_mismatch(tmp_path):
  with pytest.raises(ValueError, match=f"--run_dir='{tmp_path}' has no learner checkpoint"):
    play.restore_network(make_network('tic_tac_toe'), str(tmp_path))
  save_learner_checkpoint(make_network('connect_four'), str(tmp_path), learner_steps=1)
  with pytest.raises(ValueError, match="does not hold a network of the agent's config"):
    play.restore_network(make_network('tic_tac_toe'), str(tmp_path))


def test_agent_config_is_the_runs_recorded_config_or_the_preset(tmp_path):
  trained_with = config_lib.with_overrides(config_lib.board_game('tic_tac_toe'),
                                           'num_simulations=7,num_exploration_moves=1')
  assert play.agent_config('tic_tac_toe', str(tmp_path)) == config_lib.board_game('tic_tac_toe')
  run_record.write(str(tmp_path), 'openspiel:tic_tac_toe', trained_with)
  assert play.agent_config('tic_tac_toe', str(tmp_path)) == trained_with
  with pytest.raises(ValueError, match="is a run of 'openspiel:tic_tac_toe', not of "
                                       "--game='connect_four'"):
    play.agent_config('connect_four', str(tmp_path))


def test_make_actor_searches_with_the_budget_asked_for(tmp_path):
  run_record.write(str(tmp_path), 'openspiel:tic_tac_toe', config_lib.with_overrides(
      config_lib.board_game('tic_tac_toe'), 'num_simulations=7'))
  save_learner_checkpoint(make_network('tic_tac_toe'), str(tmp_path), learner_steps=3)
  environment = openspiel.OpenSpielEnvironment(openspiel.load_two_player_game('tic_tac_toe'))
  batch = actor_lib.stack_observations([environment.reset().observation])
  for num_simulations, expected in ((None, 7), (11, 11)):
    actor, origin = play.make_actor('tic_tac_toe', 2, str(tmp_path), seed=0,
                                    num_simulations=num_simulations)
    assert f'{expected} simulations per move' in origin
    assert actor.search(batch).visit_counts.sum() == expected


@pytest.mark.parametrize('flag, message', [
    ('--opponent=alphabeta', 'flag --opponent=alphabeta: value should be one of <minimax|random|mcts>'),
    ('--num_games=0', 'flag --num_games=0: 0 is not a positive integer'),
    ('--num_simulations=0', 'flag --num_simulations=0: 0 is not a positive integer'),
    ('--mcts_simulations=-5', 'flag --mcts_simulations=-5: -5 is not a positive integer'),
    ('--game=tic_tac_tow', "unknown OpenSpiel game 'tic_tac_tow'"),
])
def test_bad_flags_name_the_value_and_what_is_allowed(flag, message):
  # The flags exist only when bench.play runs (`define_flags`), so it runs as a program.
  process = subprocess.run([sys.executable, '-m', 'bench.play', flag], cwd=ROOT, text=True,
                           capture_output=True, timeout=120,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert process.returncode != 0
  assert message in process.stderr
