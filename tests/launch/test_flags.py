"""Bad flags fail before anything is launched, each with a message naming the flag and value."""

import json
import os

import pytest
from absl import flags
from absl.testing import flagsaver

from launch import local
from launch import run_record

FLAGS = flags.FLAGS


@pytest.fixture(autouse=True)
def parsed_flags():
  if not FLAGS.is_parsed():
    FLAGS.mark_as_parsed()


@pytest.mark.parametrize('overrides, message', [
    ({'num_actors': 0}, r'--num_actors=0 is not allowed; it must be >= 1'),
    ({'envs_per_actor': -2}, r'--envs_per_actor=-2 is not allowed; it must be >= 1'),
    ({'num_simulations': 0}, r'--num_simulations=0 is not allowed'),
    ({'max_learner_steps': 0}, r'--max_learner_steps=0 is not allowed'),
    ({'max_seconds': -1.0}, r'--max_seconds=-1.0 is not allowed; it must be > 0'),
    ({'learner_checkpoint_period_s': 0.0}, r'--learner_checkpoint_period_s=0.0 is not allowed; it must be > 0'),
    ({'replay_checkpoint_period_s': -5.0}, r'--replay_checkpoint_period_s=-5.0 is not allowed; it must be > 0'),
    ({'launch_type': 'cloud'}, r"--launch_type='cloud' is not allowed; allowed: local_mp, local_mt, test_mt, vertex_ai"),
    ({'config': 'huge'}, r"--config='huge' is not allowed; allowed: auto, cartpole, continuous_control, atari, board_game"),
    ({'config': 'board_game'}, r"--config=board_game needs an openspiel:... --env"),
    ({'env': 'gym:CarRacing-v3'}, r"--env='gym:CarRacing-v3': gymnasium id 'CarRacing-v3' needs a package"),
    ({'env': 'python:tests.agents.user_environments:make_dict_action_environment'},
     r"--env='python:tests.agents.user_environments:make_dict_action_environment': action spec "
     r"\{'arm': BoundedArray.*'grip': BoundedArray.* is not allowed; allowed: dm_env.specs.DiscreteArray"),
    ({'env': 'chess'}, r"--env='chess': environment id 'chess' is not of the form prefix:name"),
    ({'env': 'python:my_envs.make'}, r"--env='python:my_envs.make': .* allowed: python:package.module:factory"),
    ({'env': 'python:tests.nowhere:make'}, r"--env='python:tests.nowhere:make': cannot import module 'tests.nowhere'"),
    ({'max_learner_steps': None}, r'no stopping rule'),
    ({'hold_s': -1.0}, r'--hold_s=-1.0 is not allowed; it must be >= 0'),
    ({'hold_s': 60.0}, r'--hold_s=60 applies only with --target_eval_return'),
    ({'num_reanalyzers': -1}, r'--num_reanalyzers=-1 is not allowed; it must be >= 0'),
    ({'reanalyze_fraction': 0.5}, r'reanalyze_fraction=0.5 takes that share .* give --num_reanalyzers'),
    ({'num_reanalyzers': 1, 'reanalyze_fraction': 0.0}, r'--num_reanalyzers=1 with --reanalyze_fraction=0'),
    ({'num_reanalyzers': 1, 'reanalyze_fraction': 1.5}, r'--reanalyze_fraction: MuZeroConfig.reanalyze_fraction=1.5 is not allowed'),
    ({'config_overrides': 'td_step=3'}, r"--config_overrides: config override 'td_step' names no field"),
    ({'config_overrides': 'td_steps=0'}, r'--config_overrides: MuZeroConfig.td_steps=0 is not allowed'),
    ({'eval_opponent': 'minimax'},
     r"--eval_opponent='minimax' applies to two-player board games only; --env='gym:CartPole-v1'"),
    ({'env': 'openspiel:connect_four', 'eval_opponent': 'minimax'},
     r"--eval_opponent='minimax': connect_four\(\) has more than 100,000 positions, too many to solve"),
    ({'config_overrides': 'num_simulations=2.5'},
     r'--config_overrides: SearchConfig.num_simulations=2.5 is not allowed; allowed: an int >= 1'),
    ({'config_overrides': 'two_player=True'},
     r"--config_overrides: config override 'two_player' is not allowed: the agent sets "
     r'search.two_player for every search from the environment spec'),
    ({'config_overrides': 'board_symmetries=mirror'},
     r"--env='gym:CartPole-v1': MuZeroConfig.board_symmetries='mirror' needs observations with "
     r"a 'board' entry"),
    # Square planes and more actions than cells, but chess moves are not cells.
    ({'env': 'openspiel:chess', 'config_overrides': 'board_symmetries=dihedral'},
     r"--env='openspiel:chess': chess\(\) does not have board_symmetries='dihedral': after 0 "
     r'moves'),
    # Its spec says it is a two-player game, and the evaluator's matches need a pyspiel game.
    ({'env': 'python:tests.agents.user_environments:make_two_player_environment'},
     r"--env='python:tests.agents.user_environments:make_two_player_environment': "
     r'TwoPlayerUserEnvironment is a two-player game without a pyspiel game'),
])
def test_bad_flag_is_rejected(tmp_path, overrides, message):
  values = dict(run_dir=str(tmp_path / 'run'), max_learner_steps=10)
  values.update(overrides)
  with flagsaver.flagsaver(**values):
    with pytest.raises(local.FlagError, match=message):
      local.settings_from_flags()


def test_resume_needs_a_checkpoint_and_a_fresh_run_needs_an_empty_directory(tmp_path):
  run_dir = tmp_path / 'run'
  with flagsaver.flagsaver(run_dir=str(run_dir), max_learner_steps=10, resume=True):
    with pytest.raises(local.FlagError, match=r'--resume: --run_dir=.* holds no checkpoint'):
      local.settings_from_flags()
  os.makedirs(run_dir / 'learner')
  with flagsaver.flagsaver(run_dir=str(run_dir), max_learner_steps=10):
    with pytest.raises(local.FlagError, match=r'already holds a run; pass --resume'):
      local.settings_from_flags()


def test_good_flags_give_the_settings(tmp_path):
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), num_actors=3, envs_per_actor=5,
                           num_simulations=7, max_env_steps=1000, seed=4):
    config, factory, settings, launch_type = local.settings_from_flags()
  assert (config.envs_per_actor, config.search.num_simulations) == (5, 7)
  assert settings.num_actors == 3 and settings.seed == 4 and not settings.resume
  assert settings.stopping_rule.max_env_steps == 1000 and settings.stopping_rule.hold_s == 0
  assert factory.environment_id == 'gym:CartPole-v1' and launch_type == 'local_mp'


def test_board_games_evaluate_against_the_opponent_asked_for(tmp_path):
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), env='openspiel:tic_tac_toe',
                           eval_opponent='minimax', max_seconds=10.0):
    _, _, settings, _ = local.settings_from_flags()
  assert settings.eval_opponent == 'minimax'


def test_hold_goes_to_the_stopping_rule_with_the_target(tmp_path):
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), target_eval_return=475.0, hold_s=60.0):
    _, _, settings, _ = local.settings_from_flags()
  assert (settings.stopping_rule.target_eval_return, settings.stopping_rule.hold_s) == (475.0, 60.0)


def test_continuous_actions_pick_the_sampled_muzero_preset(tmp_path):
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), env='gym:Pendulum-v1', max_env_steps=100):
    config, _, _, _ = local.settings_from_flags()
  assert config == local.config_lib.continuous_control().validate()
  assert local.make_config('auto', 'gym:Pendulum-v1', continuous_actions=True).num_sampled_actions == 8


def test_the_search_flags_and_overrides_reach_the_nested_search_config(tmp_path):
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_env_steps=100, num_simulations=7,
                           config_overrides='search_policy=gumbel,search.pb_c_init=2.0'):
    config, _, _, _ = local.settings_from_flags()
  assert config.search == local.config_lib.with_overrides(
      local.config_lib.cartpole(), num_simulations=7, search_policy='gumbel', pb_c_init=2.0).search
  # --config_overrides comes after the flags.
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_env_steps=100, num_simulations=7,
                           config_overrides='num_simulations=9'):
    config, _, _, _ = local.settings_from_flags()
  assert config.search.num_simulations == 9


def test_a_two_player_game_is_told_by_its_spec_and_gets_the_board_game_preset(tmp_path):
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_env_steps=100,
                           env='openspiel:tic_tac_toe'):
    config, _, _, _ = local.settings_from_flags()
  assert config == local.config_lib.board_game('tic_tac_toe')


def test_config_presets_follow_the_environment():
  assert (local.make_config('auto', 'openspiel:tic_tac_toe', two_player=True)
          == local.config_lib.board_game('tic_tac_toe'))
  assert local.make_config('auto', 'atari:Pong').network.value_support_size == 601
  assert local.make_config('auto', 'gym:CartPole-v1').network.value_support_size == 41
  # A user's own environment gets the small MLP preset, which flattens any observation.
  assert local.make_config('auto', 'python:my_envs:make').network.torso == 'mlp'
  with pytest.raises(local.FlagError, match=r"--config=atari needs an atari:... --env .* not 'python:my_envs:make'"):
    local.make_config('atari', 'python:my_envs:make')


def test_reanalyzers_get_a_share_of_the_batch_and_overrides_reach_the_config(tmp_path):
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_learner_steps=10, num_reanalyzers=2,
                           config_overrides='td_steps=10, network.latent_size=32'):
    config, _, settings, _ = local.settings_from_flags()
  assert settings.num_reanalyzers == 2
  assert config.reanalyze_fraction == local.DEFAULT_REANALYZE_FRACTION
  assert (config.td_steps, config.network.latent_size) == (10, 32)
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_learner_steps=10, num_reanalyzers=1,
                           reanalyze_fraction=0.25):
    config, _, _, _ = local.settings_from_flags()
  assert config.reanalyze_fraction == 0.25
  # Continuous actions too: reanalysis samples new actions (agents.muzero.reanalyze).
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_learner_steps=10, num_reanalyzers=1,
                           env='gym:Pendulum-v1'):
    config, _, settings, _ = local.settings_from_flags()
  assert (settings.num_reanalyzers, config.reanalyze_fraction) == (1, 0.5)
  assert config.num_sampled_actions == 8  # The continuous_control preset.


def test_learner_threads_one_locally_tensorflows_default_on_the_cloud(tmp_path):
  for values, expected in (({}, 1), ({'learner_threads': 0}, None), ({'learner_threads': 2}, 2),
                           ({'launch_type': 'vertex_ai'}, None)):
    with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_learner_steps=10, **values):
      _, _, settings, _ = local.settings_from_flags()
    assert settings.learner_threads == expected, values
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_learner_steps=10, learner_threads=-1):
    with pytest.raises(local.FlagError, match='--learner_threads=-1 is not allowed'):
      local.settings_from_flags()
def _start_then_stop(run_dir, **flag_values):
  """What a fresh run leaves for --resume: its record, and a checkpoint (here an empty one)."""
  with flagsaver.flagsaver(run_dir=str(run_dir), max_learner_steps=10, **flag_values):
    config, _, _, _ = local.settings_from_flags()
  os.makedirs(run_dir / 'learner')
  return config


def test_fresh_run_records_its_environment_and_config(tmp_path):
  config = _start_then_stop(tmp_path / 'run', config_overrides='td_steps=7')
  with open(tmp_path / 'run' / run_record.RUN_FILE) as file:
    record = json.load(file)
  assert record['environment'] == 'gym:CartPole-v1' and record['config']['td_steps'] == 7
  # The search fields the agent sets are not the run's to record.
  assert not set(local.config_lib.AGENT_SET_SEARCH_FIELDS) & set(record['config']['search'])
  # Tuples come back as lists; the comparison sees them as equal.
  assert record['config']['temperature_schedule'] == [
      list(entry) for entry in config.temperature_schedule]
  assert run_record.differences(record, 'gym:CartPole-v1', config) == []


def test_recorded_config_gives_back_the_config_a_run_was_made_with():
  config = local.config_lib.with_overrides(
      local.config_lib.cartpole(), 'td_steps=7,temperature_schedule=((0, 1.0), (9, 0.5)),'
      'network.latent_size=16,search.value_bounds=(-2.0, 2.0)')
  record = json.loads(json.dumps(run_record.make_record('gym:CartPole-v1', config)))
  assert run_record.recorded_config(record) == config
  record['config']['network']['hidden_layers'] = 3  # As other code would have written it.
  with pytest.raises(ValueError, match=r"run record of environment 'gym:CartPole-v1' does not "
                                       r'give a config this code can build \(.*hidden_layers'):
    run_record.recorded_config(record)


@pytest.mark.parametrize('resumed_flags, message', [
    ({'config_overrides': 'td_steps=50,network.latent_size=32'},
     r"--resume: --run_dir='.*' was made with network.latent_size=64, this run has "
     r'network.latent_size=32; with td_steps=10, this run has td_steps=50\. A resumed run may '
     r'change only envs_per_actor, search.num_simulations'),
    ({'env': 'gym:Acrobot-v1'},
     r"was made with --env='gym:CartPole-v1', this run has --env='gym:Acrobot-v1'\."),
    ({'config_overrides': 'target_update_period=None'},
     r'was made with target_update_period=100, this run has target_update_period=None\.'),
])
def test_resume_refuses_another_environment_or_config(tmp_path, resumed_flags, message):
  _start_then_stop(tmp_path / 'run')
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_learner_steps=10, resume=True,
                           **resumed_flags):
    with pytest.raises(local.FlagError, match=message):
      local.settings_from_flags()


def test_resume_may_change_compute_and_learning_rate_and_warns_without_a_record(tmp_path, capsys):
  _start_then_stop(tmp_path / 'run', num_simulations=30)
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_seconds=60.0, resume=True,
                           num_simulations=8, envs_per_actor=2,
                           config_overrides='learning_rate=1e-4,max_gradient_norm=5.0,'
                                            'search.root_inference=graph,learner_xla=True'):
    config, _, settings, _ = local.settings_from_flags()
  assert (config.search.num_simulations, config.envs_per_actor, settings.resume) == (8, 2, True)
  assert config.search.root_inference == 'graph' and config.learner_xla
  assert (config.learning_rate, config.max_gradient_norm) == (1e-4, 5.0)
  with open(tmp_path / 'run' / run_record.RUN_FILE) as file:
    # The record is the run's start.
    assert json.load(file)['config']['search']['num_simulations'] == 30
  assert 'warning: --resume' not in capsys.readouterr().err

  os.remove(tmp_path / 'run' / run_record.RUN_FILE)  # A run made before records existed.
  with flagsaver.flagsaver(run_dir=str(tmp_path / 'run'), max_learner_steps=10, resume=True):
    local.settings_from_flags()
  assert 'warning: --resume: ' in capsys.readouterr().err
  assert not os.path.exists(tmp_path / 'run' / run_record.RUN_FILE)


def test_record_of_other_code_or_no_record_at_all_is_named(tmp_path):
  config = _start_then_stop(tmp_path / 'run')
  path = tmp_path / 'run' / run_record.RUN_FILE
  record = run_record.make_record('gym:CartPole-v1', config)
  # As code without that field would have written it.
  del record['config']['search']['unvisited_q']
  with open(path, 'w') as file:
    json.dump(record, file)
  with pytest.raises(local.FlagError, match=r"was made with no search.unvisited_q, this run has "
                                            r"search.unvisited_q='minimum'\."):
    local.check_resumed_run(str(tmp_path / 'run'), 'gym:CartPole-v1', config)
  # As code that kept the search settings flat in the config wrote it.
  record = run_record.make_record('gym:CartPole-v1', config)
  record['config'].update(record['config'].pop('search'))
  with open(path, 'w') as file:
    json.dump(record, file)
  with pytest.raises(local.FlagError, match=r'--resume: .*run.json was written before the search '
                                            r'settings were nested .* start a new --run_dir'):
    local.check_resumed_run(str(tmp_path / 'run'), 'gym:CartPole-v1', config)
  with open(path, 'w') as file:
    file.write('{"environment": ')
  with pytest.raises(local.FlagError, match=r'--resume: .*run.json is not JSON'):
    local.check_resumed_run(str(tmp_path / 'run'), 'gym:CartPole-v1', config)
