"""Tests of networks.muzero on tiny networks of each torso family."""

import numpy as np
import pytest
import tensorflow as tf
from acme import specs as acme_specs
from dm_env import specs

from networks import action_encoding
from networks import heads
from networks import muzero
from networks import observations
from networks.config import NetworkConfig

TINY_CONV = dict(channels=4, num_blocks=1, downsample_channels=4, downsample_blocks=(1, 1, 1),
                 head_channels=2, head_hidden_size=8, value_support_size=21,
                 reward_support_size=11)
BOARD_SPEC = {
    'board': specs.Array((3, 3, 3), np.float32),
    'legal_actions': specs.Array((9,), np.float32),
    'to_play': specs.Array((), np.int32),
}
# name -> (observation spec, num_actions, config, expected latent shape)
CASES = {
    'mlp': (specs.Array((4,), np.float32), 2,
            NetworkConfig(latent_size=16, mlp_width=16, mlp_num_blocks=1, value_support_size=21,
                          reward_support_size=11), (16,)),
    'resnet': (specs.Array((96, 96, 4), np.uint8), 6, NetworkConfig(**TINY_CONV), (6, 6, 4)),
    'board': (BOARD_SPEC, 9, NetworkConfig(**TINY_CONV), (3, 3, 4)),
}


def make_random_network(name: str, seed: int = 0) -> muzero.MuZeroNetwork:
  """A network of CASES[name] with every weight random, so that no output is trivially zero.

  The relu layers inside the heads get non-negative weights and positive biases: every torso ends
  in a relu, so their inputs are non-negative and none of their units can be dead. With weights
  of both signs a draw could leave every unit of a head dead for every input (one did: the reward
  head then gave the same reward for every sample, and the value head's spread was float32
  rounding), which no test should depend on.
  """
  observation_spec, num_actions, config, _ = CASES[name]
  network = muzero.make_network((observation_spec, num_actions), config)
  for index, variable in enumerate(network.variables):
    variable.assign(tf.random.stateless_normal(variable.shape, (seed, index), stddev=0.3))
  for head in network.submodules:
    if isinstance(head, heads.ConvHead):
      # pylint: disable-next=protected-access
      for layer in (head._conv, head._hidden):
        if layer is not None:
          layer.w.assign(tf.abs(layer.w))
          layer.b.assign(tf.abs(layer.b) + 0.1)
  return network


def random_observation(observation_spec, batch_size: int, seed: int):
  generator = np.random.default_rng(seed)

  def sample(spec):
    shape = (batch_size,) + tuple(spec.shape)
    if spec.dtype == np.uint8:
      return tf.constant(generator.integers(0, 256, shape), tf.uint8)
    if spec.dtype == np.int32:
      return tf.constant(generator.integers(0, 2, shape), tf.int32)
    return tf.constant(generator.integers(0, 2, shape), tf.float32)

  return tf.nest.map_structure(sample, observation_spec)


@pytest.fixture(scope='module', params=sorted(CASES))
def case(request):
  return request.param, make_random_network(request.param)


def assert_outputs_close(actual, expected, tolerance):
  for field, actual_value, expected_value in zip(actual._fields, actual, expected):
    np.testing.assert_allclose(actual_value, expected_value, atol=tolerance, rtol=tolerance,
                               err_msg=field)


@pytest.mark.parametrize('batch_size', [1, 7])
def test_output_shapes_and_latent_range(case, batch_size):
  name, network = case
  observation_spec, num_actions, config, latent_shape = CASES[name]
  assert network.torso == name and network.latent_shape == latent_shape
  assert network.num_actions == num_actions
  initial = network.initial_inference(random_observation(observation_spec, batch_size, seed=1))
  action = tf.constant(np.arange(batch_size) % num_actions, tf.int32)
  recurrent = network.recurrent_inference(initial.latent, action)
  for output in (initial, recurrent):
    assert output.latent.shape == (batch_size,) + latent_shape
    assert output.reward.shape == (batch_size,) and output.value.shape == (batch_size,)
    assert output.policy_logits.shape == (batch_size, num_actions)
    assert output.reward_logits.shape == (batch_size, config.reward_support_size)
    assert output.value_logits.shape == (batch_size, config.value_support_size)
    flat = output.latent.numpy().reshape(batch_size, -1)
    np.testing.assert_allclose(flat.min(axis=1), 0.0)
    np.testing.assert_allclose(flat.max(axis=1), 1.0)
  np.testing.assert_array_equal(initial.reward, np.zeros(batch_size))
  np.testing.assert_array_equal(initial.reward_logits, np.zeros_like(initial.reward_logits))
  if batch_size > 1:
    # Rows differ in observation and action, so a reward or value head that reads its own row
    # gives different outputs; float32 rounding alone stays far below 1e-3.
    assert np.ptp(recurrent.reward) > 1e-3 and np.ptp(recurrent.value) > 1e-3
    assert np.ptp(initial.value) > 1e-3


def test_initial_inference_accepts_network_input(case):
  name, network = case
  observation = random_observation(CASES[name][0], 2, seed=7)
  assert_outputs_close(network.initial_inference(observations.network_input(observation)),
                       network.initial_inference(observation), tolerance=0)


def test_dynamics_depends_on_action(case):
  name, network = case
  observation_spec, num_actions, _, _ = CASES[name]
  latent = network.initial_inference(random_observation(observation_spec, 1, seed=2)).latent
  first = network.recurrent_inference(latent, tf.constant([0]))
  last = network.recurrent_inference(latent, tf.constant([num_actions - 1]))
  assert np.abs(first.latent - last.latent).max() > 1e-3


def test_inference_traces_once_under_xla_and_matches_eager(case):
  name, network = case
  observation_spec, num_actions, _, _ = CASES[name]
  traces = {'initial': 0, 'recurrent': 0}

  @tf.function(jit_compile=True)
  def initial_inference(observation):
    traces['initial'] += 1
    return network.initial_inference(observation)

  @tf.function(jit_compile=True)
  def recurrent_inference(latent, action):
    traces['recurrent'] += 1
    return network.recurrent_inference(latent, action)

  # XLA fuses and reorders float32 sums, and the scalar value and reward go through h^-1, which
  # amplifies their logits' rounding (measured up to 4e-5 on values of a few units); 1e-4
  # relative and absolute covers that on any CPU, while a different function would be off by
  # more than 1e-2.
  for seed in range(3):
    observation = random_observation(observation_spec, 5, seed)
    action = tf.constant(np.random.default_rng(seed).integers(0, num_actions, 5), tf.int32)
    eager_initial = network.initial_inference(observation)
    assert_outputs_close(initial_inference(observation), eager_initial, tolerance=1e-4)
    assert_outputs_close(recurrent_inference(eager_initial.latent, action),
                         network.recurrent_inference(eager_initial.latent, action), tolerance=1e-4)
  assert traces == {'initial': 1, 'recurrent': 1}


def test_checkpoint_restores_into_fresh_network(case, tmp_path):
  name, network = case
  observation_spec, num_actions, config, _ = CASES[name]
  path = tf.train.Checkpoint(network=network).save(str(tmp_path / 'network'))
  fresh = muzero.make_network((observation_spec, num_actions), config)
  observation = random_observation(observation_spec, 3, seed=3)
  assert np.abs(fresh.initial_inference(observation).latent
                - network.initial_inference(observation).latent).max() > 1e-3
  tf.train.Checkpoint(network=fresh).restore(path).assert_consumed()
  action = tf.constant([0, 1, 0])
  expected = network.initial_inference(observation)
  assert_outputs_close(fresh.initial_inference(observation), expected, tolerance=0)
  assert_outputs_close(fresh.recurrent_inference(expected.latent, action),
                       network.recurrent_inference(expected.latent, action), tolerance=0)


def test_variable_groups_partition_network(case):
  _, network = case
  groups = network.variable_groups()
  parts = [groups[function] for function in ('representation', 'dynamics', 'prediction')]
  assert all(parts)
  names = [variable.name for part in parts for variable in part]
  assert sorted(names) == sorted(variable.name for variable in groups['network'])
  for function, part in zip(('representation', 'dynamics', 'prediction'), parts):
    assert all(variable.name.startswith(f'muzero_network/{function}/') for variable in part)


def test_fresh_network_predicts_zero_value_and_reward():
  observation_spec, num_actions, config, _ = CASES['board']
  network = muzero.make_network((observation_spec, num_actions), config)
  initial = network.initial_inference(random_observation(observation_spec, 2, seed=4))
  recurrent = network.recurrent_inference(initial.latent, tf.constant([3, 4]))
  np.testing.assert_allclose(initial.value, [0.0, 0.0], atol=1e-5)
  np.testing.assert_allclose(recurrent.reward, [0.0, 0.0], atol=1e-5)


def test_past_actions_in_the_observation_feed_the_atari_representation():
  frames_spec, num_actions, config, latent_shape = CASES['resnet']
  spec = {'frames': frames_spec, 'past_actions': specs.BoundedArray((3,), np.int32, 0, num_actions - 1)}
  network = muzero.make_network((spec, num_actions), config)
  assert network.torso == 'resnet' and network.latent_shape == latent_shape
  frames = random_observation(frames_spec, 1, seed=5)
  first = network.initial_inference({'frames': frames, 'past_actions': tf.constant([[0, 1, 2]])})
  second = network.initial_inference({'frames': frames, 'past_actions': tf.constant([[5, 1, 2]])})
  assert np.abs(first.latent - second.latent).max() > 1e-3


def test_action_encodings():
  latent = tf.zeros([2, 1, 1, 1])
  # A 1x1 board: one plane per action.
  np.testing.assert_array_equal(
      action_encoding.concat_board_action_planes(latent, tf.constant([2, 0]), 3),
      [[[[0, 0, 0, 1]]], [[[0, 1, 0, 0]]]])
  # A 2x2 board with 5 actions (4 cells and a pass): cell 3 is row 1, column 1 of plane 0; the
  # pass is cell (0, 0) of a second plane.
  planes = action_encoding.concat_board_action_planes(tf.zeros([2, 2, 2, 1]), tf.constant([3, 4]), 5)
  assert planes.shape == (2, 2, 2, 3)
  np.testing.assert_array_equal(planes[0, ..., 1], [[0, 0], [0, 1]])
  np.testing.assert_array_equal(planes[0, ..., 2], 0)
  np.testing.assert_array_equal(planes[1, ..., 1], 0)
  np.testing.assert_array_equal(planes[1, ..., 2], [[1, 0], [0, 0]])
  np.testing.assert_allclose(
      action_encoding.concat_scaled_planes(latent, tf.constant([[2, 3]]), 4)[0, 0, 0], [0, 0.5, 0.75])
  np.testing.assert_array_equal(action_encoding.concat_one_hot(tf.ones([1, 2]), tf.constant([1]), 2),
                                [[1, 1, 0, 1]])


def test_make_network_reads_environment_spec():
  environment_spec = acme_specs.EnvironmentSpec(
      observations=specs.Array((4,), np.float32),
      actions=specs.DiscreteArray(3, dtype=np.int32),
      rewards=specs.Array((), np.float32),
      discounts=specs.BoundedArray((), np.float32, 0.0, 1.0))
  network = muzero.make_network(environment_spec, CASES['mlp'][2])
  assert network.num_actions == 3 and network.torso == 'mlp'
  continuous = muzero.make_network(environment_spec._replace(
      actions=specs.BoundedArray((2,), np.float32, -1.0, 1.0)), CASES['mlp'][2])
  assert continuous.num_actions is None and continuous.action_size == 2
  with pytest.raises(ValueError, match=r'allowed; MuZero networks need a DiscreteArray or a \[D\] '
                     'float array'):
    muzero.make_network(environment_spec._replace(actions=specs.Array((2, 2), np.float32)))


@pytest.mark.parametrize('name', ['mlp', 'board'])
def test_continuous_actions_reach_the_dynamics_and_the_policy_has_two_parameters_per_dimension(
    name):
  observation_spec, _, config, latent_shape = CASES[name]
  network = muzero.MuZeroNetwork(observation_spec, None, config, action_size=3)
  network.create_variables()
  for index, variable in enumerate(network.variables):
    variable.assign(tf.random.stateless_normal(variable.shape, (5, index), stddev=0.3))
  initial = network.initial_inference(random_observation(observation_spec, 2, seed=3))
  assert initial.policy_logits.shape == (2, 6)
  low = network.recurrent_inference(initial.latent, tf.fill([2, 3], -1.0))
  high = network.recurrent_inference(initial.latent, tf.constant([[-1.0, -1.0, 1.0]] * 2))
  assert low.latent.shape == (2,) + latent_shape and low.policy_logits.shape == (2, 6)
  # Only the last dimension differs: the dynamics reads every dimension of the action.
  assert np.abs(low.latent - high.latent).max() > 1e-3
  with pytest.raises(ValueError, match='give exactly one'):
    muzero.MuZeroNetwork(observation_spec, 2, config, action_size=3)


def test_continuous_action_encoding_scales_to_unit_interval():
  np.testing.assert_allclose(
      action_encoding.concat_continuous(tf.zeros([1, 1]), tf.constant([[-1.0, 0.0, 1.0]])),
      [[0.0, 0.0, 0.5, 1.0]])
  planes = action_encoding.concat_continuous(tf.zeros([1, 2, 2, 1]), tf.constant([[0.5, -1.0]]))
  np.testing.assert_allclose(planes[0, ..., 1], np.full([2, 2], 0.75))
  np.testing.assert_allclose(planes[0, ..., 2], np.zeros([2, 2]))


def test_explicit_torso_overrides_spec_and_must_fit_observation():
  config = NetworkConfig(torso='mlp', latent_size=8, mlp_width=8, value_support_size=5,
                         reward_support_size=5)
  network = muzero.make_network((BOARD_SPEC, 9), config)
  output = network.initial_inference(random_observation(BOARD_SPEC, 2, seed=6))
  assert network.torso == 'mlp' and output.latent.shape == (2, 8)
  with pytest.raises(ValueError, match=r"torso 'board'"):
    muzero.MuZeroNetwork(specs.Array((4,), np.float32), 2, NetworkConfig(torso='board'))


@pytest.mark.parametrize('field, value', [('torso', 'cnn'), ('value_support_size', 20),
                                          ('num_blocks', -1), ('downsample_blocks', (1, 2))])
def test_config_rejects_bad_values(field, value):
  with pytest.raises(ValueError, match=field):
    NetworkConfig(**{field: value})
