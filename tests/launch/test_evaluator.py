"""The evaluator node: mean greedy return for single-player environments, mean score against the
chosen opponent for board games, with the weights and step the variable server holds."""

import numpy as np
import pytest
from acme import specs

import networks
from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib
from environments import make_environment
from launch import evaluator_node
from launch import variable_server as variable_server_lib
from tests.agents import helpers
from tests.agents import fakes
from tests.agents import user_environments

LEARNER_STEP = 7


def make_evaluator(config, environment_factory, run_dir, num_episodes, opponent='random'):
  """An evaluator whose variable server holds a fresh network's weights from step LEARNER_STEP."""
  spec = specs.make_environment_spec(environment_factory(0))
  network = builder_lib.MuZeroBuilder(config, spec).make_network()
  server = variable_server_lib.VariableServer()
  server.publish(LEARNER_STEP, {
      'network': [variable.numpy() for variable in network.variable_groups()['network']],
      'learner_steps': [np.int64(LEARNER_STEP)]})
  return evaluator_node.EvaluatorNode(config, spec, environment_factory, server, str(run_dir),
                                      seed=0, num_episodes=num_episodes, period_s=1.0,
                                      opponent=opponent)


def test_single_player_evaluation_is_the_mean_greedy_return(tmp_path):
  # Every episode of the counting environment pays 1 + 2 + 3 + 4 = 10, whatever the actions.
  evaluator = make_evaluator(helpers.tiny_config(),
                             lambda seed: fakes.CountingEnvironment(episode_length=4), tmp_path,
                             num_episodes=2)
  figures = evaluator.evaluate()
  assert figures == {'evaluation_return': 10.0, 'evaluation_return_min': 10.0,
                     'learner_steps': LEARNER_STEP}
  assert evaluator.last_evaluation() == (LEARNER_STEP, 10.0)


def test_a_two_player_game_is_told_by_its_spec_and_needs_a_pyspiel_game(tmp_path):
  # Not an OpenSpiel environment; its spec's 'to_play' entry makes it a two-player game, which is
  # evaluated by matches against a random player, and those need its pyspiel game.
  with pytest.raises(ValueError, match='TwoPlayerUserEnvironment is a two-player game without a '
                                       'pyspiel game'):
    make_evaluator(helpers.tiny_config(), user_environments.make_two_player_environment,
                   tmp_path, num_episodes=2)


def test_a_stop_abandons_the_evaluation_without_logging_it(tmp_path):
  # Episodes of 1000 steps: the stop asked after the third search ends the evaluation there.
  evaluator = make_evaluator(helpers.tiny_config(),
                             lambda seed: fakes.CountingEnvironment(episode_length=1000), tmp_path,
                             num_episodes=2)
  calls = []
  assert evaluator.evaluate(should_stop=lambda: calls.append(1) or len(calls) > 3) is None
  assert len(calls) == 4
  assert evaluator.last_evaluation() is None


def tiny_tic_tac_toe_config():
  return config_lib.with_overrides(
      config_lib.board_game('tic_tac_toe'), num_simulations=2,
      network=networks.NetworkConfig(torso='board', value_support_size=3, reward_support_size=3,
                                     channels=4, num_blocks=1, head_hidden_size=8))


def test_board_game_evaluation_is_the_mean_score_against_random_play(tmp_path):
  evaluator = make_evaluator(tiny_tic_tac_toe_config(),
                             lambda seed: make_environment('openspiel:tic_tac_toe', seed),
                             tmp_path, num_episodes=4)
  figures = evaluator.evaluate()

  seats = {seat: [figures[f'vs_random_{outcome}_{seat}'] for outcome in ('wins', 'draws', 'losses')]
           for seat in ('first', 'second')}
  assert sum(seats['first']) == 2 and sum(seats['second']) == 2  # Half the games on each side.
  wins, draws, losses = (a + b for a, b in zip(seats['first'], seats['second']))
  assert figures['evaluation_return'] == (wins - losses) / 4
  assert figures['evaluation_return_min'] == (-1.0 if losses else 0.0 if draws else 1.0)
  assert figures['learner_steps'] == LEARNER_STEP
  assert evaluator.last_evaluation() == (LEARNER_STEP, figures['evaluation_return'])


def test_board_game_evaluation_against_minimax_never_wins(tmp_path):
  # Perfect play never loses at tic-tac-toe: an untrained network's score is 0 (draws) at best.
  evaluator = make_evaluator(tiny_tic_tac_toe_config(),
                             lambda seed: make_environment('openspiel:tic_tac_toe', seed),
                             tmp_path, num_episodes=4, opponent='minimax')
  figures = evaluator.evaluate()

  assert figures['vs_minimax_wins_first'] == figures['vs_minimax_wins_second'] == 0
  games = sum(figures[f'vs_minimax_{outcome}_{seat}'] for outcome in ('draws', 'losses')
              for seat in ('first', 'second'))
  assert games == 4
  losses = figures['vs_minimax_losses_first'] + figures['vs_minimax_losses_second']
  assert figures['evaluation_return'] == -losses / 4
