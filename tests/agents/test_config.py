"""MuZeroConfig: paper defaults, presets, and clear errors for impossible values."""

import dataclasses
import re

import pytest

import networks
import search
from agents.muzero import config as config_lib


def test_defaults_are_the_papers_atari_settings():
  config = config_lib.MuZeroConfig().validate()
  assert (config.unroll_steps, config.td_steps, config.discount) == (5, 10, 0.997)
  search = config.search
  assert (search.num_simulations, search.pb_c_init, search.pb_c_base) == (50, 1.25, 19652.0)
  assert (search.dirichlet_alpha, search.dirichlet_fraction) == (0.25, 0.25)
  assert (config.priority_exponent, config.importance_sampling_exponent) == (1.0, 1.0)
  assert config.weight_decay == 1e-4
  assert config.network.value_support_size == config.network.reward_support_size == 601
  assert config.sequence_length == 16
  # Temperature 1 until 500k learner steps, 0.5 until 750k, then 0.25.
  assert [config.temperature(step) for step in (0, 499_999, 500_000, 749_999, 750_000)] == [
      1.0, 1.0, 0.5, 0.5, 0.25]
  # 0.05 * 0.1^(step / 350k).
  assert config.learning_rate_at(350_000) == pytest.approx(0.005)


def test_presets_validate():
  cartpole = config_lib.cartpole().validate()
  assert cartpole.network.torso == 'mlp'
  board = config_lib.board_game('tic_tac_toe').validate()
  assert board.discount == 1.0 and board.td_steps == 9
  assert board.search.value_bounds == (-1.0, 1.0)
  assert board.priority_exponent == 0.0  # The paper samples board-game positions uniformly.
  # Tic-tac-toe samples its first 3 moves, connect four its first 10; other games the paper's 30.
  assert board.temperature(10**9, move_number=2) == 1.0
  assert board.temperature(0, move_number=3) == 0.0
  connect_four = config_lib.board_game('connect_four')
  assert connect_four.temperature(10**9, move_number=9) == 1.0
  assert connect_four.temperature(0, move_number=10) == 0.0
  assert (connect_four.samples_per_insert, connect_four.max_replay_size) == (4.0, 40_000)
  assert (board.samples_per_insert, board.max_replay_size) == (8.0, 100_000)
  assert (board.board_symmetries, connect_four.board_symmetries) == ('dihedral', 'mirror')
  assert config_lib.board_game('go(board_size=9)').board_symmetries == 'none'  # The paper's.
  chess = config_lib.board_game('chess')
  assert chess.td_steps == 512
  assert chess.temperature(10**9, move_number=29) == 1.0
  assert chess.temperature(0, move_number=30) == 0.0


@pytest.mark.parametrize('field, value, allowed', [
    ('unroll_steps', 0, 'an int >= 1'),
    ('td_steps', 0, 'an int >= 1'),
    ('batch_size', 0, 'an int >= 1'),
    ('batch_size', 2.5, 'an int >= 1'),
    ('discount', 0.0, r'a number in \(0.0, 1.0\]'),
    ('discount', 1.5, r'a number in \(0.0, 1.0\]'),
    ('importance_sampling_exponent', 2.0, r'a number in \[0.0, 1.0\]'),
    ('optimizer', 'rmsprop', "one of \\('sgd', 'adam'\\)"),
    ('consistency_space', 'cosine', "one of \\('projection', 'latent'\\)"),
    ('min_replay_size', 10**7, 'at most max_replay_size'),
    ('temperature_schedule', ((5, 1.0),), 'the first at step 0'),
    ('search', 1, 'a search.SearchConfig'),
    ('network', 1, 'a networks.NetworkConfig'),
])
def test_validate_names_field_value_and_allowed_range(field, value, allowed):
  config = dataclasses.replace(config_lib.MuZeroConfig(), **{field: value})
  prefix = re.escape(f'MuZeroConfig.{field}={value!r} is not allowed; allowed: ')
  with pytest.raises(ValueError, match=prefix + '.*' + allowed):
    config.validate()


@pytest.mark.parametrize('field, value', [('discount', 1.0), ('two_player', True),
                                          ('add_noise', False), ('temperature', 0.5)])
def test_the_search_fields_the_agent_sets_are_refused_in_the_config(field, value):
  config = config_lib.MuZeroConfig(search=search.SearchConfig(**{field: value}))
  source = re.escape(config_lib.AGENT_SET_SEARCH_FIELDS[field])
  with pytest.raises(ValueError, match=re.escape(f'MuZeroConfig.search.{field}={value!r} is not '
                                                 'allowed; allowed: ') + f'.*from {source}'):
    config.validate()
  for name in (field, f'search.{field}'):
    if name == 'discount':  # The bare name is MuZeroConfig's own discount.
      continue
    with pytest.raises(ValueError, match=re.escape(f'config override {name!r} is not allowed: the '
                                                   f'agent sets search.{field}')):
      config_lib.with_overrides(config_lib.MuZeroConfig(), f'{name}={value!r}')


def test_a_text_field_takes_a_bare_word_so_every_preset_can_switch_to_gumbel():
  for preset in (config_lib.cartpole(), config_lib.board_game('tic_tac_toe'),
                 config_lib.atari('tiny')):
    config = config_lib.with_overrides(preset, 'search_policy=gumbel,num_simulations=8')
    assert (config.search.search_policy, config.search.num_simulations) == ('gumbel', 8)
  quoted = config_lib.with_overrides(config_lib.cartpole(), "search_policy='gumbel'")
  assert quoted.search.search_policy == 'gumbel'


def test_overrides_set_fields_by_name_and_are_validated():
  config = config_lib.with_overrides(
      config_lib.cartpole(), 'td_steps=10, temperature_schedule=((0, 1.0), (50, 0.5)),'
      'value_bounds=None,network.latent_size=16')
  assert config.td_steps == 10 and config.network.latent_size == 16
  assert config.temperature_schedule == ((0, 1.0), (50, 0.5)) and config.search.value_bounds is None
  assert config_lib.with_overrides(config, '  ') == config
  for overrides, message in (('tdsteps=1', "'tdsteps' names no field"),
                             ('network.depth=1', "'network.depth' names no field"),
                             ('network=1', 'MuZeroConfig.network=1 is not allowed'),
                             ('search.network=1', "'search.network' names no field"),
                             ('td_steps', 'allowed: field=value'),
                             ('td_steps=ten', 'not a Python literal'),
                             ('optimizer=ad am', 'not a Python literal'),
                             ('search_policy=alphazero',
                              "SearchConfig.search_policy='alphazero' is not allowed"),
                             ('td_steps=0', 'MuZeroConfig.td_steps=0 is not allowed')):
    with pytest.raises(ValueError, match=message):
      config_lib.with_overrides(config, overrides)


def test_search_fields_are_named_flat_or_dotted_and_keywords_follow_the_same_rule():
  preset = config_lib.cartpole()
  flat = config_lib.with_overrides(preset, 'num_simulations=8,search_policy=gumbel,pb_c_init=2.0')
  dotted = config_lib.with_overrides(
      preset, 'search.num_simulations=8,search.search_policy=gumbel,search.pb_c_init=2.0')
  keywords = config_lib.with_overrides(preset, num_simulations=8, search_policy='gumbel',
                                       **{'search.pb_c_init': 2.0})
  expected = dataclasses.replace(preset, search=dataclasses.replace(
      preset.search, num_simulations=8, search_policy='gumbel', pb_c_init=2.0))
  assert flat == dotted == keywords == expected
  assert expected.search != preset.search  # The overrides changed something.
  # The bare name of a field both configs have is MuZeroConfig's.
  assert config_lib.with_overrides(preset, 'discount=0.9').discount == 0.9
  # A whole nested config comes first, then its dotted fields.
  both = config_lib.with_overrides(preset, 'num_simulations=3',
                                   search=search.SearchConfig(num_simulations=5, pb_c_init=3.0))
  assert (both.search.num_simulations, both.search.pb_c_init) == (3, 3.0)


def test_an_unknown_name_lists_every_allowed_name():
  with pytest.raises(ValueError) as error:
    config_lib.with_overrides(config_lib.cartpole(), num_simulation=8)
  message = str(error.value)
  assert message.startswith("config override 'num_simulation' names no field; allowed: ")
  settable_search = [field.name for field in dataclasses.fields(search.SearchConfig)
                     if field.name not in config_lib.AGENT_SET_SEARCH_FIELDS]
  for name in ([field.name for field in dataclasses.fields(config_lib.MuZeroConfig)]
               + settable_search + [field.name for field in dataclasses.fields(networks.NetworkConfig)]):
    assert repr(name) in message, name
  assert 'search fields as <name> or search.<name>' in message
  assert 'network fields as network.<name>' in message
  assert "'add_noise'" not in message
