"""Hand-derived cases, tracing and determinism of the public search entry points."""

import gc
import weakref

import numpy as np
import pytest
import tensorflow as tf

from search import config as config_lib
from search import policies
from tests.search import tiny_networks


def _observations(batch_size: int, seed: int = 0, size: int = 5) -> np.ndarray:
  return np.random.default_rng(seed).normal(size=(batch_size, size)).astype(np.float32)


def _config(**overrides) -> config_lib.SearchConfig:
  return config_lib.SearchConfig(**{'discount': 0.9, 'add_noise': False, 'temperature': 0.0,
                                    **overrides})


def test_three_simulations_on_a_bandit_match_the_hand_derivation():
  # Rewards (0, 1), uniform prior, values 0, root visit count 1 (its own value).
  # Sim 1: both children unvisited, equal scores -> lowest index: action 0, Q = 0.
  # Sim 2: N = 2; action 0 scores 0 + 0.5 sqrt(2) / 2 c, action 1 scores 0.5 sqrt(2) c -> 1;
  #   Q(root, 1) = 1 + 0.9 * 0 = 1.
  # Sim 3: Q normalised with min 0, max 1: action 1 scores 1 + e, action 0 scores 0 + e -> 1,
  #   then action 0 below it (tie), whose leaf backs up 0: Q(root, 1) = 1 + 0.9 * (0 + 0) / 2.
  # Root value = (0 + 0 + 1 + 1) / 4.
  network = tiny_networks.BanditNetwork(action_rewards=[0.0, 1.0], prior_logits=[0.0, 0.0])
  output = policies.run_search(network, _observations(1), None, 0, _config(num_simulations=3))
  np.testing.assert_array_equal(output.visit_counts.numpy(), [[1, 2]])
  np.testing.assert_allclose(output.q_values.numpy(), [[0.0, 1.0]], atol=1e-6)
  np.testing.assert_allclose(output.root_value.numpy(), [0.5], atol=1e-6)
  np.testing.assert_allclose(output.search_policy.numpy(), [[1 / 3, 2 / 3]], atol=1e-6)
  assert output.selected_action.numpy().tolist() == [1]


def test_visits_concentrate_on_the_clearly_better_action():
  network = tiny_networks.BanditNetwork(action_rewards=[0.0, 1.0, 0.3],
                                        prior_logits=[0.0, 0.0, 0.0])
  num_simulations = 40
  output = policies.run_search(network, _observations(4), None, 0,
                               _config(num_simulations=num_simulations))
  visit_counts = output.visit_counts.numpy()
  assert (visit_counts.sum(axis=1) == num_simulations).all()
  assert (visit_counts[:, 1] > num_simulations // 2).all(), visit_counts
  assert (output.selected_action.numpy() == 1).all()


@pytest.mark.parametrize('two_player, expected_root_value, expected_q', [
    # s = +1 or -1, discount 0.9, every value 0.3, rewards 1, only action 1 legal at the root
    # and preferred below it. G1 = 1 + s 0.9 0.3; G(child) = 1 + s 0.9 0.3;
    # G2 = 1 + s 0.9 G(child); root value = (0.3 + G1 + G2) / 3;
    # Q(root, 1) = 1 + s 0.9 (0.3 + G(child)) / 2.
    (False, (0.3 + 1.27 + 2.143) / 3, 1 + 0.9 * (0.3 + 1.27) / 2),
    (True, (0.3 + 0.73 + 0.343) / 3, 1 - 0.9 * (0.3 + 0.73) / 2),
], ids=['one_player', 'two_player'])
def test_two_simulations_back_up_signed_discounted_returns(two_player, expected_root_value,
                                                          expected_q):
  network = tiny_networks.BanditNetwork(action_rewards=[1.0, 1.0], prior_logits=[0.0, 5.0],
                                        value=0.3)
  output = policies.run_search(network, _observations(1), np.array([[False, True]]), 0,
                               _config(num_simulations=2, two_player=two_player))
  np.testing.assert_array_equal(output.visit_counts.numpy(), [[0, 2]])
  np.testing.assert_allclose(output.root_value.numpy(), [expected_root_value], atol=1e-5)
  np.testing.assert_allclose(output.q_values.numpy(), [[0.0, expected_q]], atol=1e-5)


def test_one_simulation_visits_the_legal_action_with_the_highest_prior():
  network = tiny_networks.BanditNetwork(action_rewards=[0.0, 0.0, 0.0, 0.0],
                                        prior_logits=[0.5, 3.0, 1.0, -1.0])
  legal_actions = np.array([[True, True, True, True], [True, False, True, True]])
  output = policies.run_search(network, _observations(2), legal_actions, 0,
                               _config(num_simulations=1))
  np.testing.assert_array_equal(output.visit_counts.numpy(), [[0, 1, 0, 0], [0, 0, 1, 0]])


def test_noise_replaces_the_prior_over_legal_actions_only():
  # With dirichlet_fraction 1 the root prior is the noise itself, so one simulation visits the
  # argmax of each row's Dirichlet sample instead of the network's favourite, action 0, and never
  # the illegal action 3. Each row picks action 0 with probability 1/3: with 32 rows, all of them
  # would do so once in 10^15 draws (8 rows did once in 6,561, should another CPU's gamma
  # sampler round differently).
  network = tiny_networks.BanditNetwork(action_rewards=[0.0] * 4,
                                        prior_logits=[5.0, 0.0, 0.0, 9.0])
  legal_actions = np.array([[True, True, True, False]] * 32)
  output = policies.run_search(
      network, _observations(32), legal_actions, 3,
      _config(num_simulations=1, add_noise=True, dirichlet_alpha=1.0, dirichlet_fraction=1.0))
  visited = np.argmax(output.visit_counts.numpy(), axis=1)
  assert set(visited.tolist()) - {0}, visited
  assert (visited != 3).all()


def test_illegal_actions_are_never_visited_nor_selected():
  network = tiny_networks.RandomNetwork(5, 4, seed=4)
  legal_actions = np.array([[True, False, True, False], [False, False, False, True],
                            [False, True, True, True]])
  config = _config(num_simulations=30, add_noise=True, temperature=1.0)
  for seed in range(5):
    output = policies.run_search(network, _observations(3, seed), legal_actions, seed, config)
    illegal = ~legal_actions
    assert (output.visit_counts.numpy()[illegal] == 0).all()
    assert (output.search_policy.numpy()[illegal] == 0).all()
    assert (output.q_values.numpy()[illegal] == 0).all()
    assert legal_actions[np.arange(3), output.selected_action.numpy()].all()


def test_traces_once_per_batch_size_and_not_for_new_inputs():
  network = tiny_networks.RandomNetwork(5, 3, seed=5)
  search_fn = policies.SearchFn(network, _config(num_simulations=8, add_noise=True))
  rng = np.random.default_rng(0)
  for call in range(4):
    legal_actions = rng.random((2, 3)) < 0.7
    legal_actions[:, call % 3] = True
    search_fn(_observations(2, seed=call), legal_actions, seed=call, temperature=0.5 * call)
  search_fn(_observations(2, seed=9), tf.constant([[True, True, False]] * 2),
            seed=np.array([3, 4]), temperature=tf.constant(1.0))
  assert network.num_traces == 1
  search_fn(_observations(3), np.ones((3, 3), bool), seed=0, temperature=1.0)
  search_fn(_observations(3, seed=1), np.ones((3, 3), bool), seed=1, temperature=0.0)
  assert network.num_traces == 2


class _DictInputNetwork:
  """A RandomNetwork that reads {'x': [B, 3] float, 'y': [B, 2] int} as one [B, 5] observation."""

  def __init__(self, network: tiny_networks.RandomNetwork):
    self.num_actions = network.num_actions
    self._network = network

  def initial_inference(self, observation):
    return self._network.initial_inference(
        tf.concat([observation['x'], tf.cast(observation['y'], tf.float32)], axis=1))

  def recurrent_inference(self, latent, action):
    return self._network.recurrent_inference(latent, action)


def test_dict_observations_search_like_the_array_they_stand_for():
  network = tiny_networks.RandomNetwork(5, 3, seed=5)
  config = _config(num_simulations=8, add_noise=True, temperature=1.0)
  dict_search = policies.SearchFn(_DictInputNetwork(network), config)
  array_search = policies.SearchFn(network, config)
  for call in range(2):
    observations = _observations(2, seed=call)
    observations[:, 3:] = np.round(observations[:, 3:])
    as_dict = {'x': observations[:, :3], 'y': observations[:, 3:].astype(np.int32)}
    expected = array_search(observations, None, seed=call)
    for field, value in zip(policies.SearchOutput._fields, dict_search(as_dict, None, seed=call)):
      # Two compiled programs: XLA may order the first layer's sums differently once the
      # concatenation is inside the graph, so values near 0 get an absolute tolerance too.
      np.testing.assert_allclose(value, getattr(expected, field), rtol=1e-6, atol=1e-6,
                                 err_msg=field)
  assert network.num_traces == 2  # Once per SearchFn: new dicts of the same shapes reuse the trace.


def test_the_flat_call_returns_what_the_traced_function_returns():
  """`SearchFn` calls its concrete functions through their private flat entry point
  (`policies._call_traced`); the public call of the same tf.function must agree exactly, with
  nested observations, a legal mask and one temperature per row in the flat argument list."""
  network = tiny_networks.RandomNetwork(5, 3, seed=5)
  search_fn = policies.SearchFn(_DictInputNetwork(network),
                                _config(num_simulations=8, add_noise=True))
  observations = _observations(2)
  as_dict = {'x': observations[:, :3], 'y': np.round(observations[:, 3:]).astype(np.int32)}
  legal_actions = np.array([[True, False, True], [False, True, True]])
  temperature = np.array([0.0, 1.0], np.float32)
  for seed in range(3):
    flat = search_fn(as_dict, legal_actions, seed=seed, temperature=temperature)
    public = search_fn._search(  # pylint: disable=protected-access
        tf.nest.map_structure(tf.convert_to_tensor, as_dict), tf.constant(legal_actions),
        tf.constant([seed, 0], tf.int64), tf.constant(temperature))
    for field in policies.SearchOutput._fields:
      np.testing.assert_array_equal(getattr(flat, field), getattr(public, field), err_msg=field)
  assert network.num_traces == 1


@pytest.mark.parametrize('search_policy', config_lib.SEARCH_POLICIES)
def test_graph_root_inference_searches_like_the_compiled_one(search_policy):
  network = tiny_networks.RandomNetwork(5, 4, seed=8)
  searches = [policies.SearchFn(network, _config(num_simulations=12, add_noise=True,
                                                 temperature=1.0, search_policy=search_policy,
                                                 root_inference=root_inference))
              for root_inference in ('xla', 'graph')]
  legal_actions = np.array([[True, True, False, True], [True, True, True, True]])
  for call in range(2):
    compiled, in_graph = (search(_observations(2, seed=call), legal_actions, seed=call)
                          for search in searches)
    for field in policies.SearchOutput._fields:
      # XLA may round the root's layers differently from TensorFlow's kernels.
      np.testing.assert_allclose(getattr(in_graph, field), getattr(compiled, field), rtol=1e-5,
                                 atol=1e-6, err_msg=field)
  assert network.num_traces == 2  # Once per SearchFn.


class _NumpyRootNetwork:
  """A RandomNetwork whose initial inference passes its input through numpy, which XLA cannot
  compile (tf.numpy_function has no XLA kernel)."""

  def __init__(self, network: tiny_networks.RandomNetwork):
    self.num_actions = network.num_actions
    self._network = network

  def initial_inference(self, observation):
    copied = tf.numpy_function(np.copy, [observation], tf.float32)
    copied.set_shape(observation.shape)
    return self._network.initial_inference(copied)

  def recurrent_inference(self, latent, action):
    return self._network.recurrent_inference(latent, action)


def test_graph_root_inference_runs_outside_xla():
  network = _NumpyRootNetwork(tiny_networks.RandomNetwork(5, 3, seed=9))
  observations = _observations(2)
  output = policies.SearchFn(network, _config(num_simulations=4, root_inference='graph'))(
      observations, None, seed=0)
  assert (output.visit_counts.numpy().sum(axis=1) == 4).all()
  with pytest.raises(tf.errors.OpError, match='PyFunc|NumpyFunction|XLA'):
    policies.SearchFn(network, _config(num_simulations=4, root_inference='xla'))(
        observations, None, seed=0)


def test_same_seed_same_search_with_noise_and_sampling():
  network = tiny_networks.RandomNetwork(5, 3, seed=6)
  config = _config(num_simulations=16, add_noise=True, dirichlet_alpha=0.3, temperature=1.0)
  observations = _observations(8)
  outputs = [policies.run_search(network, observations, None, seed, config)
             for seed in (7, 7, 8)]
  for field in policies.SearchOutput._fields:
    np.testing.assert_array_equal(getattr(outputs[0], field).numpy(),
                                  getattr(outputs[1], field).numpy(), err_msg=field)
  # Another seed changes the noise and the sampled actions somewhere in the batch.
  assert not (np.array_equal(outputs[0].visit_counts.numpy(), outputs[2].visit_counts.numpy())
              and np.array_equal(outputs[0].selected_action.numpy(),
                                 outputs[2].selected_action.numpy()))


def test_compiled_searches_do_not_keep_the_network_alive():
  network = tiny_networks.RandomNetwork(5, 3, seed=7)
  policies.run_search(network, _observations(1), None, 0, _config(num_simulations=2))
  network_ref = weakref.ref(network)
  del network
  gc.collect()
  assert network_ref() is None


@pytest.mark.parametrize('legal_actions, message', [
    (np.ones((2, 2), bool), r'legal_actions has shape \(2, 2\); expected .* \[2, 3\]'),
    (np.array([[True, False, True], [False, False, False]]),
     r'no legal action at batch rows \[1\]'),
])
def test_bad_legal_actions_are_reported(legal_actions, message):
  search_fn = policies.SearchFn(tiny_networks.RandomNetwork(5, 3), _config(num_simulations=2))
  with pytest.raises(ValueError, match=message):
    search_fn(_observations(2), legal_actions, seed=0)


@pytest.mark.parametrize('temperature, message', [
    (-0.5, r'temperature = -0.5 is out of range; allowed: finite values >= 0'),
    (np.array([1.0, np.nan]), r'temperature = \[ 1. nan\] is out of range'),
    (np.ones(3), r'temperature has shape \(3,\); expected a scalar or \[batch_size\] = \[2\]'),
])
def test_bad_temperature_is_reported(temperature, message):
  search_fn = policies.SearchFn(tiny_networks.RandomNetwork(5, 3), _config(num_simulations=2))
  with pytest.raises(ValueError, match=message):
    search_fn(_observations(2), None, seed=0, temperature=temperature)


def test_bad_seed_is_reported():
  search_fn = policies.SearchFn(tiny_networks.RandomNetwork(5, 3), _config(num_simulations=2))
  with pytest.raises(ValueError, match=r'seed must be an int or a \[2\] integer'):
    search_fn(_observations(2), None, seed=np.array([1, 2, 3]))


def test_temperature_zero_takes_the_most_visited_lowest_index():
  visit_counts = tf.constant([[3, 5, 5, 0], [0, 0, 7, 7]])
  gumbels = tf.constant([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, -1.6, 13.8]])
  selected = policies._select_action_by_visits(  # pylint: disable=protected-access
      visit_counts, tf.constant(0.0), gumbels)
  assert selected.numpy().tolist() == [1, 2]
  # One temperature per row: row 1 samples, and its large Gumbel draw makes action 3 win.
  selected = policies._select_action_by_visits(  # pylint: disable=protected-access
      visit_counts, tf.constant([0.0, 1.0]), gumbels)
  assert selected.numpy().tolist() == [1, 3]


@pytest.mark.parametrize('temperature', [1.0, 0.5])
def test_positive_temperature_samples_visits_to_the_power_one_over_temperature(temperature):
  visit_counts = np.array([1, 2, 5, 0])
  num_samples = 40000
  gumbels = np.random.default_rng(0).gumbel(size=(num_samples, 4)).astype(np.float32)
  selected = policies._select_action_by_visits(  # pylint: disable=protected-access
      tf.constant(np.tile(visit_counts, (num_samples, 1))), tf.constant(temperature),
      tf.constant(gumbels)).numpy()
  frequencies = np.bincount(selected, minlength=4) / num_samples
  expected = visit_counts**(1 / temperature) / np.sum(visit_counts**(1 / temperature))
  np.testing.assert_allclose(frequencies, expected, atol=0.01)
  assert frequencies[3] == 0


def test_dirichlet_noise_covers_the_legal_actions_only():
  # Row 1's Gamma variables are far below float32's smallest number (their logs near -200):
  # normalised in logs, they still make a distribution (to float32's precision at 200).
  log_gammas = tf.math.log(tf.constant([[0.5, 2.0, 1.5, 1.0], [1.0, 2.0, 1.0, 3.0]])) + tf.constant(
      [[0.0], [-200.0]])
  legal_actions = tf.constant([[True, True, False, True], [True, True, True, False]])
  noise = policies._legal_softmax(  # pylint: disable=protected-access
      log_gammas, legal_actions).numpy()
  np.testing.assert_allclose(noise, [[0.5 / 3.5, 2.0 / 3.5, 0.0, 1.0 / 3.5],
                                     [0.25, 0.5, 0.25, 0.0]], atol=1e-4)
