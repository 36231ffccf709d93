"""Tests of agents.muzero.sampled: the corrected prior, the slot adapter and the sampled search."""

import math
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf
from dm_env import specs

import search
from agents.muzero import keyed_random
from agents.muzero import sampled
from networks import muzero
from networks import squashed_gaussian
from networks.base import NetworkOutput
from networks.config import NetworkConfig
from tests.search import tiny_networks


def _softmax(logits):
  logits = np.asarray(logits, np.float64)
  exponentials = np.exp(logits - logits.max(axis=-1, keepdims=True))
  return exponentials / exponentials.sum(axis=-1, keepdims=True)


def test_corrected_prior_of_samples_with_a_repeat_is_beta_hat_over_beta_times_pi():
  # Three actions, pi = (0.5, 0.3, 0.2), uniform beta = 1/3, draws (0, 0, 2): beta_hat = (2/3,
  # 0, 1/3), (beta_hat / beta) pi = (1.0, 0, 0.2), normalised (5/6, 0, 1/6). The two slots of
  # action 0 share its 5/6.
  pi, beta = np.array([0.5, 0.3, 0.2]), np.full(3, 1 / 3)
  draws = np.array([0, 0, 2])
  logits = sampled.corrected_prior_logits(tf.math.log(tf.constant([pi[draws]])),
                                          tf.math.log(tf.constant([beta[draws]])))
  np.testing.assert_allclose(_softmax(logits)[0], [5 / 12, 5 / 12, 1 / 6], rtol=1e-6)
  # beta = pi: every slot 1 / K, the duplicates' share being beta_hat(0) = 2/3.
  logits = sampled.corrected_prior_logits(tf.math.log(tf.constant([pi[draws]])),
                                          tf.math.log(tf.constant([pi[draws]])))
  np.testing.assert_allclose(_softmax(logits)[0], [1 / 3] * 3, rtol=1e-6)


def test_a_broader_root_proposal_weighs_samples_back_towards_the_policy():
  # pi: mean 0, std 1 in u = atanh(a); beta: std 2. Samples a = 0 and a = tanh(2):
  # log pi - log beta = log 2 at u = 0 and -2 + 0.5 + log 2 at u = 2 (the Jacobians cancel).
  proposal = sampled.SquashedGaussianProposal(1, root_std_scale=2.0)
  policy = tf.constant([[0.0, 0.0]])  # Mean 0, raw scale 0 (std 1).
  actions = tf.constant([[[0.0], [math.tanh(2.0)]]])
  logits = sampled.corrected_prior_logits(proposal.log_prior(policy, actions),
                                          proposal.log_proposal(policy, actions, at_root=True))
  np.testing.assert_allclose(logits[0], [math.log(2), -1.5 + math.log(2)], rtol=1e-5)
  below_root = sampled.corrected_prior_logits(
      proposal.log_prior(policy, actions), proposal.log_proposal(policy, actions, at_root=False))
  np.testing.assert_array_equal(below_root, np.zeros([1, 2]))


def _search_config(**overrides):
  return search.SearchConfig(**{'num_simulations': 30, 'discount': 0.9, 'add_noise': False,
                                'temperature': 0.0, **overrides})


def test_all_actions_under_a_uniform_proposal_make_the_full_search():
  num_actions = 4
  network = tiny_networks.RandomNetwork(observation_size=5, num_actions=num_actions, seed=3)
  observations = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
  root_priors = tf.nn.softmax(network.initial_inference(observations).policy_logits).numpy()
  # Priors apart by far more than float32 rounding: pUCT's choices cannot flip on it.
  gaps = np.abs(root_priors[:, :, None] - root_priors[:, None, :])[:, ~np.eye(num_actions, dtype=bool)]
  assert gaps.min() > 1e-3
  config = _search_config()
  full = search.SearchFn(network, config)(observations, None, 0)
  sampled_search = sampled.SampledSearch(
      network, sampled.CategoricalProposal(num_actions, uniform_proposal=True), num_actions, config)
  output, root_actions = sampled_search(observations, np.array([1, 2, 3]), 0)
  np.testing.assert_array_equal(root_actions[..., 0], np.tile(np.arange(num_actions), (3, 1)))
  np.testing.assert_array_equal(output.visit_counts, full.visit_counts)
  assert len(np.unique(full.visit_counts)) > 3  # Searches that tell the actions apart.
  np.testing.assert_allclose(output.root_value, full.root_value, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(output.q_values, full.q_values, rtol=1e-5, atol=1e-6)


def test_fewer_samples_than_actions_are_distinct_and_sorted():
  proposal = sampled.CategoricalProposal(10)
  actions = proposal.sample(tf.zeros([50, 10]), tf.range(50), 4, at_root=True).numpy()[..., 0]
  assert np.all(np.diff(actions, axis=1) > 0) and actions.min() >= 0 and actions.max() <= 9
  with pytest.raises(ValueError, match=r'num_samples=11 distinct actions cannot be drawn from 10'):
    proposal.sample(tf.zeros([1, 10]), tf.range(1), 11, at_root=True)


def _continuous_network(action_size=2, seed=0):
  network = muzero.MuZeroNetwork(
      specs.Array((3,), np.float32), None,
      NetworkConfig(torso='mlp', latent_size=8, mlp_width=16, value_support_size=11,
                    reward_support_size=11), action_size=action_size)
  network.create_variables()
  for index, variable in enumerate(network.variables):
    variable.assign(tf.random.stateless_normal(variable.shape, (seed, index), stddev=0.5))
  return network


def test_a_child_runs_the_dynamics_on_its_slot_and_samples_from_its_own_key():
  network = _continuous_network()
  proposal = sampled.SquashedGaussianProposal(2)
  adapter = sampled.SampledNetwork(network, proposal, num_samples=3)
  observations = tf.constant([[0.1, -0.2, 0.3], [1.0, 0.5, -1.0]])
  root_actions = tf.constant([[[0.1, 0.2], [0.3, -0.4], [-0.5, 0.6]]] * 2)
  keys = tf.constant([11, 12])
  root = adapter.initial_inference({sampled.OBSERVATION: observations,
                                    sampled.SAMPLED_ACTIONS: root_actions, sampled.KEY: keys})
  slots = tf.constant([1, 2])
  child = adapter.recurrent_inference(root.latent, slots)
  latent, actions, child_keys = adapter.unpack(child.latent)
  expected = network.recurrent_inference(network.initial_inference(observations).latent,
                                         tf.constant([[0.3, -0.4], [-0.5, 0.6]]))
  np.testing.assert_allclose(latent, expected.latent, atol=1e-6)
  np.testing.assert_allclose(child.value, expected.value, atol=1e-5)
  np.testing.assert_array_equal(child_keys, keyed_random.child_keys(keys, slots))
  np.testing.assert_allclose(
      actions, squashed_gaussian.sample(expected.policy_logits,
                                        keyed_random.normals(child_keys, [3, 2])), atol=1e-5)
  np.testing.assert_array_equal(child.policy_logits, np.zeros([2, 3]))  # beta = pi.


def test_the_search_sizes_the_adapter_by_the_wrapped_network():
  network = _continuous_network()
  adapter = sampled.SampledNetwork(network, sampled.SquashedGaussianProposal(2), num_samples=3)
  assert ([id(variable) for variable in adapter.trainable_variables] ==
          [id(variable) for variable in network.trainable_variables])
  big_enough = sum(variable.shape.num_elements() for variable in network.trainable_variables)
  with mock.patch.object(search.config, 'GRAPH_ROOT_MIN_PARAMETERS', big_enough):
    assert search.config.root_in_graph('auto', adapter)
  with mock.patch.object(search.config, 'GRAPH_ROOT_MIN_PARAMETERS', big_enough + 1):
    assert not search.config.root_in_graph('auto', adapter)


def test_continuous_search_stays_in_bounds_and_is_deterministic():
  network = _continuous_network()
  # Means of +-50 in atanh space: tanh saturates, the actions must still be within [-1, 1].
  policy_bias = network.prediction._policy.b  # pylint: disable=protected-access
  policy_bias.assign([50.0, -50.0, 0.0, 0.0])
  sampled_search = sampled.SampledSearch(network, sampled.SquashedGaussianProposal(2, 2.0), 6,
                                         _search_config(add_noise=True))
  observations = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
  output, actions = sampled_search(observations, np.arange(4), 7)
  assert actions.shape == (4, 6, 2)
  assert np.all(np.abs(actions.numpy()) <= 1.0)
  np.testing.assert_array_equal(output.visit_counts.numpy().sum(axis=1), [30] * 4)
  again, same_actions = sampled_search(observations, np.arange(4), 7)
  np.testing.assert_array_equal(again.visit_counts, output.visit_counts)
  np.testing.assert_array_equal(same_actions, actions)
  policy_bias.assign([0.0, 0.0, 0.0, 0.0])
  _, first = sampled_search(observations, np.arange(4), 7)
  _, other_keys = sampled_search(observations, np.arange(4) + 4, 7)
  # With unsaturated means every draw moves with the keys.
  assert np.abs(other_keys.numpy() - first.numpy()).max(axis=-1).min() > 0


class _CostToTargetNetwork(tf.Module):
  """A model of one continuous action where only the root's action matters: it costs
  cost * (a - target)^2 on top of (1 - discount) * value, every later step pays
  (1 - discount) * value and every state is worth `value`. So the model is Bellman-consistent
  and a root action's Q is value - cost * (a - target)^2 however deep the search looks below
  it: the sample nearest `target` is the best whatever the scale of the value (Pendulum's values
  are about -500). The latent is 1 at the root, 0 below."""

  latent_shape = (1,)
  action_size = 1

  def __init__(self, value: float, cost: float, target: float, discount: float):
    super().__init__()
    self._value, self._cost, self._target, self._discount = value, cost, target, discount

  def _output(self, latent, reward):
    batch_size = tf.shape(reward)[0]
    # Mean 0, raw scale 0: the policy is a std-1 Gaussian in atanh space.
    return NetworkOutput(latent, reward, tf.zeros([batch_size, 2]),
                         tf.fill([batch_size], self._value), reward[:, None],
                         tf.fill([batch_size, 1], self._value))

  def initial_inference(self, observation):
    batch_size = tf.shape(observation)[0]
    return self._output(tf.ones([batch_size, 1]), tf.zeros([batch_size]))

  def recurrent_inference(self, latent, action):
    cost = latent[:, 0] * self._cost * tf.square(action[:, 0] - self._target)
    return self._output(tf.zeros_like(latent), (1.0 - self._discount) * self._value - cost)


@pytest.mark.parametrize('value', [0.0, -500.0])
def test_the_sampled_search_visits_the_best_sample_most_under_a_consistent_model(value):
  # beta = pi at the root, so every slot's corrected prior is 1 / K and Q alone ranks them. Q
  # gaps of 0.05 and more against values of 0 or -500 (float32 resolves 3e-5 there): pUCT with
  # min-max normalised Q must visit the best sample most and, greedy, play it.
  discount = 0.99
  network = _CostToTargetNetwork(value, cost=1.0, target=0.5, discount=discount)
  sampled_search = sampled.SampledSearch(
      network, sampled.SquashedGaussianProposal(1), 8,
      _search_config(num_simulations=25, discount=discount, unvisited_q='parent'))
  output, actions = sampled_search(np.zeros((32, 3), np.float32), np.arange(32) + 100, 0)
  costs = np.square(actions.numpy()[..., 0] - 0.5)
  best = np.argmin(costs, axis=1)
  clear = np.diff(np.sort(costs, axis=1)[:, :2], axis=1)[:, 0] >= 0.05
  assert clear.sum() >= 12  # Enough rows whose best sample stands out.
  np.testing.assert_allclose(output.q_values.numpy()[np.arange(32), best],
                             value - costs[np.arange(32), best], atol=1e-3)
  np.testing.assert_array_equal(np.argmax(output.visit_counts.numpy(), axis=1)[clear], best[clear])
  np.testing.assert_array_equal(output.selected_action.numpy()[clear], best[clear])


@pytest.mark.parametrize('keys', [np.array([-1]), np.array([2 ** 24]), np.array([0.5])])
def test_keys_out_of_range_are_refused(keys):
  sampled_search = sampled.SampledSearch(_continuous_network(), sampled.SquashedGaussianProposal(2),
                                         2, _search_config())
  with pytest.raises(ValueError, match=r'are not allowed; allowed: \[B\] integers in \[0, 2\^24\)'):
    sampled_search(np.zeros([1, 3], np.float32), keys, 0)


def test_gumbel_over_continuous_slots_plays_one_of_the_sampled_actions_deterministically():
  network = _continuous_network()
  sampled_search = sampled.SampledSearch(
      network, sampled.SquashedGaussianProposal(2, 2.0), 6,
      _search_config(search_policy='gumbel', num_simulations=12, add_noise=True))
  observations = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
  output, actions = sampled_search(observations, np.arange(4), 7)
  chosen = output.selected_action.numpy()
  assert actions.shape == (4, 6, 2) and np.all(np.abs(actions.numpy()) <= 1.0)
  assert chosen.shape == (4,) and np.all((chosen >= 0) & (chosen < 6))
  # Gumbel's improved policy over the 6 slots, and the 12 simulations spent on them.
  assert output.search_policy.shape == (4, 6)
  np.testing.assert_allclose(output.search_policy.numpy().sum(axis=1), 1.0, rtol=1e-6)
  np.testing.assert_array_equal(output.visit_counts.numpy().sum(axis=1), [12] * 4)
  # Sequential halving plays a most visited slot.
  visits = output.visit_counts.numpy()
  np.testing.assert_array_equal(visits[np.arange(4), chosen], visits.max(axis=1))
  again, same_actions = sampled_search(observations, np.arange(4), 7)
  for field in search.SearchOutput._fields:
    np.testing.assert_array_equal(getattr(again, field), getattr(output, field), err_msg=field)
  np.testing.assert_array_equal(same_actions, actions)


@pytest.mark.parametrize('seed', range(3))
def test_gumbel_over_every_action_as_slots_is_gumbel_over_the_full_space(seed):
  # Action 2 pays 1, the others 0, and has the lowest prior: with 24 simulations over 6 actions
  # every action is visited in the first phase, and from then on action 2's sigma gap of at
  # least (50 + 1) x 2 = 102 beats any difference of Gumbel noise and logits (as in
  # tests/search/test_gumbel.py), so both searches must play it. K = 6 slots under a uniform
  # proposal hold the 6 actions in order with the corrected prior pi, and draw the same noise.
  network = tiny_networks.BanditNetwork(action_rewards=[0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
                                        prior_logits=[2.0, 2.0, -1.0, 2.0, 2.0, 2.0])
  config = _search_config(search_policy='gumbel', num_simulations=24, add_noise=True,
                          gumbel_c_scale=2.0)
  observations = np.zeros((8, 5), np.float32)
  full = search.SearchFn(network, config)(observations, None, seed)
  sampled_search = sampled.SampledSearch(
      network, sampled.CategoricalProposal(6, uniform_proposal=True), 6, config)
  output, slot_actions = sampled_search(observations, np.arange(8), seed)
  np.testing.assert_array_equal(slot_actions[..., 0], np.tile(np.arange(6), (8, 1)))
  np.testing.assert_array_equal(full.selected_action, [2] * 8)
  np.testing.assert_array_equal(output.selected_action, full.selected_action)
  np.testing.assert_array_equal(output.visit_counts, full.visit_counts)
  np.testing.assert_allclose(output.search_policy, full.search_policy, rtol=1e-5, atol=1e-7)
