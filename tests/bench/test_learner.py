"""bench.learner: where the table lives, and what each process spends per step."""

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
