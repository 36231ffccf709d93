"""Atari end to end: the distributed program on Pong with the tiny Atari preset, and its flags."""

import pytest
from absl import flags
from absl.testing import flagsaver

from launch import local
from tests.launch import test_program

TINY_PONG = ['--env=atari:Pong', '--atari_size=tiny', '--num_actors=1', '--eval_episodes=1']


def test_pong_runs_a_few_learner_steps_with_the_tiny_preset(tmp_path):
  status, stdout = test_program._launch(  # pylint: disable=protected-access
      str(tmp_path / 'run'), '--launch_type=test_mt', '--max_learner_steps=5', base_flags=TINY_PONG)
  assert status.state == 'finished' and 'max_learner_steps=5' in status.reason
  assert status.learner_steps >= 5
  assert status.env_steps > 0 and status.replay_size > 0
  assert 'MuZero on atari:Pong: 1 actors x 2 environments, 8 simulations' in stdout


def test_atari_preset_for_any_game_and_its_sizes():
  for game in ('Pong', 'Breakout'):
    config = local.make_config('auto', f'atari:{game}')
    assert config.network.torso == 'resnet'
    assert config.network.value_support_size == config.network.reward_support_size == 601
  assert local.make_config('atari', 'atari:Pong', 'paper').batch_size == 1024
  assert local.make_config('auto', 'atari:Pong', 'tiny').network.channels == 4


@pytest.mark.parametrize('overrides, message', [
    ({'env': 'atari:Pong', 'atari_size': 'huge'},
     r"--atari_size: Atari preset size 'huge' is not allowed; allowed: small, paper, tiny"),
    ({'env': 'gym:CartPole-v1', 'atari_size': 'tiny'},
     r"--atari_size='tiny' applies to the atari preset only, not to --config=cartpole"),
    ({'env': 'gym:CartPole-v1', 'config': 'atari'}, r'--config=atari needs an atari:... --env'),
])
def test_bad_atari_flags_are_rejected(tmp_path, overrides, message):
  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_learner_steps=10, **overrides):
    with pytest.raises(local.FlagError, match=message):
      local.settings_from_flags()
