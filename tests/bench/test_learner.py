"""bench.learner: where the table lives, what each process spends per step, the presets and
the XLA settings it measures."""

import dataclasses

import pytest

from agents.muzero import config as config_lib
from bench import learner as learner_bench


def _small_config():
  return dataclasses.replace(config_lib.cartpole(), batch_size=8)


def test_a_replay_in_its_own_process_is_measured_apart():
  [result] = learner_bench.measure_learner(_small_config(), 'gym:CartPole-v1', steps=2,
                                         warmup_steps=1, replay='own_process')
  assert result['replay'] == 'own_process' and result['learner_steps_per_second'] > 0
  assert result['learner_process_cpu_ms_per_step'] > 0
  # Measured in clock ticks, so two small steps may cost the server none.
  assert result['replay_process_cpu_ms_per_step'] is not None
  assert result['replay_process_cpu_ms_per_step'] >= 0


def test_a_replay_in_the_learners_process_has_no_process_of_its_own():
  [result] = learner_bench.measure_learner(_small_config(), 'gym:CartPole-v1', steps=2,
                                         warmup_steps=1)
  assert result['replay'] == 'learner_process' and result['replay_process_cpu_ms_per_step'] is None
  assert result['learner_process_cpu_ms_per_step'] > 0


def test_an_unknown_replay_layout_is_refused_naming_the_allowed_ones():
  with pytest.raises(ValueError, match=r"replay='remote' is not allowed; allowed: "
                                       r"learner_process, own_process"):
    learner_bench.measure_learner(_small_config(), 'gym:CartPole-v1', steps=1, replay='remote')


def test_both_xla_settings_are_measured_in_turns_on_continuous_actions():
  # Sampled MuZero's items (S sampled actions per step) from the random fill; a small network
  # so that the XLA compile is short.
  config = config_lib.with_overrides(config_lib.continuous_control(), batch_size=8,
                                     **{'network.latent_size': 8, 'network.mlp_width': 8})
  off, on = learner_bench.measure_learner(config, 'gym:Pendulum-v1', steps=3, warmup_steps=1,
                                          learner_xla=(False, True), rounds=2)
  assert (off['learner_xla'], on['learner_xla']) == (False, True)
  for result in (off, on):
    assert result['timed_steps'] == 3 and result['rounds'] == 2
    assert result['learner_steps_per_second'] > 0 and result['first_step_s'] > 0
    assert result['trace_s'] >= result['first_step_s']


def test_presets_take_their_own_environment_and_board_game_its_game():
  config, environment_id = learner_bench.preset('continuous_control')
  assert environment_id == 'gym:Pendulum-v1' and config.num_sampled_actions == 8
  config, environment_id = learner_bench.preset('board_game', 'openspiel:connect_four')
  assert environment_id == 'openspiel:connect_four' and config.network.torso == 'board'
  with pytest.raises(ValueError, match=r"board_game needs an openspiel:... --env .*, not "
                                       r"'gym:CartPole-v1'"):
    learner_bench.preset('board_game', 'gym:CartPole-v1')
  with pytest.raises(ValueError, match=r"--config='atari' is not allowed; allowed: cartpole, "
                                       r"continuous_control, board_game"):
    learner_bench.preset('atari')


def test_rounds_beyond_the_timed_steps_are_refused():
  with pytest.raises(ValueError, match=r'rounds=3 is not allowed; allowed: 1 to steps=2'):
    learner_bench.measure_learner(_small_config(), 'gym:CartPole-v1', steps=2, rounds=3)
