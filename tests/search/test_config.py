"""Validation of SearchConfig: every bad value is named with its allowed range."""

import pytest

from search import config as config_lib
from search import qtransforms


def test_defaults_are_the_papers():
  config = config_lib.SearchConfig()
  assert (config.pb_c_init, config.pb_c_base) == (1.25, 19652.0)
  assert (config.dirichlet_alpha, config.dirichlet_fraction) == (0.25, 0.25)
  assert config.search_policy == 'muzero'
  # Danihelka et al. 2022: m = 16, c_visit = 50, c_scale = 1.
  assert (config.max_num_considered_actions, config.gumbel_c_visit,
          config.gumbel_c_scale) == (16, 50.0, 1.0)


def test_every_unvisited_q_name_maps_to_a_q_transform():
  assert set(qtransforms.UNVISITED_Q_TRANSFORMS) == set(config_lib.UNVISITED_Q)


@pytest.mark.parametrize('field, value, message', [
    ('num_simulations', 0, r'num_simulations = 0 is out of range; allowed: num_simulations >= 1'),
    ('num_simulations', 2.5, r'num_simulations must be an int, got 2.5'),
    ('num_simulations', True, r'num_simulations must be an int'),
    ('discount', 1.5, r'discount = 1.5 is out of range; allowed: 0.0 <= discount <= 1.0'),
    ('discount', float('nan'), r'discount = nan is out of range'),
    ('pb_c_init', 0.0, r'pb_c_init = 0.0 is out of range; allowed: finite pb_c_init > 0'),
    ('pb_c_base', -1, r'pb_c_base = -1 is out of range'),
    ('dirichlet_alpha', 0, r'dirichlet_alpha = 0 is out of range'),
    ('dirichlet_fraction', -0.1, r'dirichlet_fraction = -0.1 is out of range; allowed: 0.0 <='),
    ('temperature', -1.0, r'temperature = -1.0 is out of range; allowed: finite temperature >= 0'),
    ('temperature', float('inf'), r'temperature = inf is out of range'),
    ('add_noise', 1, r'add_noise must be a bool, got 1'),
    ('two_player', 'yes', r"two_player must be a bool, got 'yes'"),
    ('value_bounds', (1.0, -1.0), r'value_bounds = \(1.0, -1.0\) is invalid; allowed: None or'),
    ('value_bounds', (0.0,), r'value_bounds = \(0.0,\) is invalid'),
    ('unvisited_q', 'zero', r"unvisited_q = 'zero' is not allowed; allowed: \('minimum', 'parent'\)"),
    ('search_policy', 'alphazero',
     r"search_policy = 'alphazero' is not allowed; allowed: \('muzero', 'gumbel'\)"),
    ('max_num_considered_actions', 0,
     r'max_num_considered_actions = 0 is out of range; allowed: max_num_considered_actions >= 1'),
    ('max_num_considered_actions', 2.0, r'max_num_considered_actions must be an int, got 2.0'),
    ('gumbel_c_visit', -1.0, r'gumbel_c_visit = -1.0 is out of range; allowed: 0.0 <='),
    ('gumbel_c_scale', 0.0,
     r'gumbel_c_scale = 0.0 is out of range; allowed: finite gumbel_c_scale > 0'),
])
def test_bad_values_are_named_with_their_allowed_range(field, value, message):
  with pytest.raises((ValueError, TypeError), match=message):
    config_lib.SearchConfig(**{field: value})


def test_value_bounds_become_a_hashable_tuple():
  config = config_lib.SearchConfig(value_bounds=[-1, 1])
  assert config.value_bounds == (-1.0, 1.0)
  assert hash(config) == hash(config_lib.SearchConfig(value_bounds=(-1.0, 1.0)))
