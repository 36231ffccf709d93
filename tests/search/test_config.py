"""Validation of SearchConfig: every bad value is named with its allowed range."""

import re

import pytest
import tensorflow as tf

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


@pytest.mark.parametrize('field, value, allowed', [
    ('num_simulations', 0, 'an int >= 1'),
    ('num_simulations', 2.5, 'an int >= 1'),
    ('num_simulations', True, 'an int >= 1'),
    ('discount', 1.5, r'a number in \[0.0, 1.0\]'),
    ('discount', float('nan'), r'a number in \[0.0, 1.0\]'),
    ('pb_c_init', 0.0, r'a number in \(0.0, inf\)'),
    ('pb_c_base', -1, r'a number in \(0.0, inf\)'),
    ('dirichlet_alpha', 0, r'a number in \(0.0, inf\)'),
    ('dirichlet_fraction', -0.1, r'a number in \[0.0, 1.0\]'),
    ('temperature', -1.0, r'a number in \[0.0, inf\)'),
    ('temperature', float('inf'), r'a number in \[0.0, inf\)'),
    ('add_noise', 1, 'True or False'),
    ('two_player', 'yes', 'True or False'),
    ('value_bounds', (1.0, -1.0), r'None or \(minimum, maximum\) with finite minimum < maximum'),
    ('value_bounds', (0.0,), 'None or'),
    ('value_bounds', 1.0, 'None or'),
    ('unvisited_q', 'zero', r"one of \('minimum', 'parent'\)"),
    ('search_policy', 'alphazero', r"one of \('muzero', 'gumbel'\)"),
    ('max_num_considered_actions', 0, 'an int >= 1'),
    ('max_num_considered_actions', 2.0, 'an int >= 1'),
    ('gumbel_c_visit', -1.0, r'a number in \[0.0, inf\)'),
    ('gumbel_c_scale', 0.0, r'a number in \(0.0, inf\)'),
    ('root_inference', 'eager', r"one of \('auto', 'xla', 'graph'\)"),
])
def test_bad_values_are_named_with_their_allowed_range(field, value, allowed):
  prefix = re.escape(f'SearchConfig.{field}={value!r} is not allowed; allowed: ')
  with pytest.raises(ValueError, match=prefix + allowed):
    config_lib.SearchConfig(**{field: value})


def test_value_bounds_become_a_hashable_tuple():
  config = config_lib.SearchConfig(value_bounds=[-1, 1])
  assert config.value_bounds == (-1.0, 1.0)
  assert hash(config) == hash(config_lib.SearchConfig(value_bounds=(-1.0, 1.0)))


class _Network(tf.Module):
  """A network with `parameters` trainable parameters in two variables, and one frozen."""

  def __init__(self, parameters: int):
    super().__init__()
    self.weights = [tf.Variable(tf.zeros([parameters - 1])), tf.Variable(tf.zeros([1]))]
    self.frozen = tf.Variable(tf.zeros([config_lib.GRAPH_ROOT_MIN_PARAMETERS]), trainable=False)


@pytest.mark.parametrize('parameters, in_graph', [
    (config_lib.GRAPH_ROOT_MIN_PARAMETERS - 1, False),
    (config_lib.GRAPH_ROOT_MIN_PARAMETERS, True)])
def test_auto_root_inference_runs_big_networks_in_graph_mode(parameters, in_graph):
  assert config_lib.root_in_graph('auto', _Network(parameters)) is in_graph


def test_a_network_without_variables_counts_as_small():
  assert not config_lib.root_in_graph('auto', object())


@pytest.mark.parametrize('root_inference, in_graph', [('xla', False), ('graph', True)])
def test_an_explicit_root_inference_ignores_the_network_size(root_inference, in_graph):
  for parameters in (1, config_lib.GRAPH_ROOT_MIN_PARAMETERS):
    assert config_lib.root_in_graph(root_inference, _Network(parameters)) is in_graph
