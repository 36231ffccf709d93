"""Gumbel MuZero: sequential halving budgets, completed Q, the improved policy, masks, seeds.

Expected values come from the paper's definitions (Danihelka et al. 2022), derived by hand or
with numpy next to the formula, never from the search's own output.
"""

import re

import numpy as np
import pytest
import tensorflow as tf

from search import config as config_lib
from search import gumbel
from search import policies
from search import qtransforms
from search import selection
from search import tree as tree_lib
from tests.search import tiny_networks

OBSERVATIONS = np.zeros((1, 5), np.float32)


def _gumbel_config(**overrides) -> config_lib.SearchConfig:
  return config_lib.SearchConfig(**{'search_policy': 'gumbel', 'discount': 0.0,
                                    'add_noise': False, **overrides})


@pytest.mark.parametrize('num_considered, num_simulations, expected', [
    # 2 phases (ceil(log2 4)); phase 1: 4 actions x max(1, 8 // (2 * 4)) = 1 visit; phase 2:
    # 2 actions x 8 // (2 * 2) = 2 visits, one round at a time.
    (4, 8, [0] * 4 + [1, 1, 2, 2]),
    # 4 phases: 16 x 1 (32 // 64 -> at least 1), 8 x 1 (32 // 32), 4 x 2 (32 // 16): 32 exactly.
    (16, 32, [0] * 16 + [1] * 8 + [2] * 4 + [3] * 4),
    # 50 does not divide: 16 x 1, 8 x 1 (50 // 32), 4 x 3 (50 // 16), 2 x 6 (50 // 8) makes 48;
    # the last phase repeats with 2 actions for the 2 simulations left.
    (16, 50, [0] * 16 + [1] * 8 + [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4] +
     [5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10] + [11, 11]),
    # 3 phases for 5 actions: 5 x 1 (7 // 15 -> 1), then 2 x 1 (7 // 6).
    (5, 7, [0] * 5 + [1, 1]),
    # A budget smaller than m visits the first 8 once.
    (16, 8, [0] * 8),
    # One action takes every visit.
    (1, 3, [0, 1, 2]),
])
def test_considered_visits_follow_sequential_halving(num_considered, num_simulations, expected):
  np.testing.assert_array_equal(gumbel.considered_visits(num_considered, num_simulations),
                                expected)


@pytest.mark.parametrize('num_actions, max_num_considered, num_simulations, expected_visits', [
    # From the schedules above: every phase keeps the better half, the actions in index order.
    (4, 16, 8, [3, 3, 1, 1]),
    (16, 16, 32, [4] * 4 + [2] * 4 + [1] * 8),
    (16, 16, 50, [12, 12, 5, 5, 2, 2, 2, 2] + [1] * 8),
    (5, 16, 7, [2, 2, 1, 1, 1]),
    (16, 16, 8, [1] * 8 + [0] * 8),
    # m = 4 of 8 actions: the top 4 of the logits only (Gumbel-top-k without noise).
    (8, 4, 8, [3, 3, 1, 1, 0, 0, 0, 0]),
])
def test_root_visits_follow_the_halving_schedule(num_actions, max_num_considered,
                                                 num_simulations, expected_visits):
  # Rewards and logits both fall with the index and the discount is 0, so Q(a) = r(a) at every
  # visit and g + logits + sigma(q) ranks the actions in index order throughout.
  network = tiny_networks.BanditNetwork(
      action_rewards=np.linspace(1.0, 0.0, num_actions).tolist(),
      prior_logits=np.linspace(3.0, 0.0, num_actions).tolist())
  output = policies.run_search(
      network, np.zeros((2, 5), np.float32), None, 0,
      _gumbel_config(num_simulations=num_simulations,
                     max_num_considered_actions=max_num_considered))
  np.testing.assert_array_equal(output.visit_counts.numpy(), [expected_visits] * 2)
  assert output.selected_action.numpy().tolist() == [0, 0]


def test_improved_policy_of_a_searched_bandit_matches_the_formula():
  # 4 actions, 8 simulations: visits [3, 3, 1, 1], every action visited, so completed Q = r.
  rewards, logits = [1.0, 0.5, 0.2, 0.0], [3.0, 2.0, 1.0, 0.0]
  network = tiny_networks.BanditNetwork(action_rewards=rewards, prior_logits=logits)
  output = policies.run_search(network, OBSERVATIONS, None, 0,
                               _gumbel_config(num_simulations=8, gumbel_c_scale=0.1))
  # sigma = (50 + max N = 3) * 0.1 * (r - 0) / (1 - 0).
  expected = tf.nn.softmax(np.array(logits) + 53 * 0.1 * np.array(rewards)).numpy()
  np.testing.assert_allclose(output.search_policy.numpy()[0], expected, rtol=1e-5)


def _hand_built_tree() -> tree_lib.Tree:
  """Two roots of 4 actions: visits [2, 1, 0, 0]; row 1 has action 3 illegal (prior 0)."""
  tree = tree_lib.init_tree(
      root_embedding=tf.zeros([2, 1]),
      root_prior=tf.constant([[0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.3, 0.0]]),
      root_value=tf.constant([0.1, -0.3]),
      root_legal_actions=tf.constant([[True] * 4, [True, True, True, False]]),
      num_simulations=3, min_max_stats=qtransforms.init_min_max_stats(2))
  edges = np.zeros([2, 4, 4], np.float32)
  visits, value_sums, rewards = edges.copy(), edges.copy(), edges.copy()
  visits[:, 0] = [2, 1, 0, 0]
  value_sums[:, 0] = [1.0, -0.5, 0.0, 0.0]
  rewards[:, 0] = [0.15, 0.25, 0.0, 0.0]
  return tree._replace(children_visits=tf.constant(visits, tf.int32),
                       children_value_sums=tf.constant(value_sums),
                       children_rewards=tf.constant(rewards))


@pytest.mark.parametrize('two_player', [False, True])
def test_completed_q_and_improved_policy_on_a_hand_built_tree(two_player):
  discount = tree_lib.signed_discount(0.9, two_player)
  tree = _hand_built_tree()  # The players enter through the signed discount only.
  statistics = selection.node_statistics(tree, tf.constant([0, 0]), discount)
  prior = np.array([[0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.3, 0.0]])
  value = np.array([0.1, -0.3])
  # Q of the visited actions: r + signed discount * value sum / visits.
  q_0, q_1 = 0.15 + discount * 1.0 / 2, 0.25 + discount * -0.5 / 1
  # v_mix = (v + 3 * (0.4 q_0 + 0.3 q_1) / (0.4 + 0.3)) / (1 + 3), the paper's eq. 33.
  v_mix = (value + 3 * (0.4 * q_0 + 0.3 * q_1) / 0.7) / 4
  np.testing.assert_allclose(gumbel.mixed_value(statistics).numpy(), v_mix, rtol=1e-6)
  completed = np.stack([[q_0, q_1, v_mix[row], v_mix[row]] for row in range(2)])
  np.testing.assert_allclose(gumbel.completed_q(statistics).numpy(), completed, rtol=1e-6)

  # sigma: min-max over the selectable actions (row 1 without action 3), times
  # (c_visit + max N) c_scale = (10 + 2) * 0.5.
  expected_sigma = np.zeros([2, 4])
  for row, selectable in enumerate([4, 3]):
    row_q = completed[row, :selectable]
    expected_sigma[row, :selectable] = 6.0 * (row_q - row_q.min()) / (row_q.max() - row_q.min())
  np.testing.assert_allclose(gumbel.sigma_completed_q(statistics, 10.0, 0.5).numpy(),
                             expected_sigma, rtol=1e-5, atol=1e-6)
  with np.errstate(divide='ignore'):
    expected_policy = tf.nn.softmax(np.log(prior) + expected_sigma).numpy()
  policy = gumbel.improved_policy(statistics, 10.0, 0.5).numpy()
  np.testing.assert_allclose(policy, expected_policy, rtol=1e-5)
  assert policy[1, 3] == 0.0


def test_below_the_root_the_choice_is_the_improved_policy_minus_the_visit_share():
  # Node 1 of a hand-built tree: prior [0.5, 0.3, 0.2], visits [3, 0, 0], Q(0) = 0.2; value 0.
  tree = tree_lib.init_tree(tf.zeros([1, 1]), tf.constant([[1.0, 0.0, 0.0]]), tf.constant([0.0]),
                            tf.constant([[True, False, False]]), 2,
                            qtransforms.init_min_max_stats(1))
  prior = tree.children_prior.numpy()
  prior[0, 1] = [0.5, 0.3, 0.2]
  visits = np.zeros([1, 3, 3], np.int32)
  visits[0, 1] = [3, 0, 0]
  rewards = np.zeros([1, 3, 3], np.float32)
  rewards[0, 1, 0] = 0.2
  tree = tree._replace(children_prior=tf.constant(prior), children_visits=tf.constant(visits),
                       children_rewards=tf.constant(rewards))
  # v_mix = (0 + 3 * 0.2) / 4 = 0.15 for actions 1 and 2; normalised: [1, 0, 0];
  # sigma = (50 + 3) * 0.01 * [1, 0, 0]; pi' = softmax(log prior + sigma);
  # score = pi' - [3, 0, 0] / 4.
  improved = tf.nn.softmax(np.log([0.5, 0.3, 0.2]) + np.array([0.53, 0.0, 0.0])).numpy()
  expected = int(np.argmax(improved - np.array([0.75, 0.0, 0.0])))
  assert expected == 1  # The visit share outweighs action 0's better Q.
  choose = gumbel.selection_fn(tf.zeros([1, 3]), num_simulations=8, max_num_considered=16,
                               signed_discount_factor=0.9, c_visit=50.0, c_scale=0.01)
  assert choose(tree, tf.constant([1])).numpy().tolist() == [expected]


@pytest.mark.parametrize('seed', range(3))
def test_enough_simulations_choose_the_best_action_whatever_the_noise(seed):
  # Action 2 pays 1, the others 0, and has the lowest prior. Every action is considered (6 < m)
  # and visited in the first phase; from then on its normalised Q is 1 against 0, a sigma gap of
  # at least (50 + 1) * 2 = 102, more than any difference of float32 Gumbel variables
  # (`search.noise.gumbel` draws within about [-4.3, 16.7]) plus the logits' 3.
  network = tiny_networks.BanditNetwork(action_rewards=[0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
                                        prior_logits=[2.0, 2.0, -1.0, 2.0, 2.0, 2.0])
  output = policies.run_search(network, np.zeros((8, 5), np.float32), None, seed,
                               _gumbel_config(num_simulations=24, add_noise=True,
                                              gumbel_c_scale=2.0))
  assert (output.selected_action.numpy() == 2).all()
  # It survives every halving: among the most visited (the last two share the final phase).
  visits = output.visit_counts.numpy()
  assert (visits[:, 2] == visits.max(axis=1)).all()


def test_the_search_looks_past_a_reply_that_loses():
  # Two players, discount 1, values 0, uniform priors. Root move 0 pays 0.5 but the opponent's
  # reply 1 then pays them 1 (true Q = 0.5 - 1); move 1 pays 0.1 and ends the game (absorbing
  # node 2); move 2 pays 0 and ends the game. A first visit of move 0 sees only its 0.5; the
  # deterministic choice below the root tries the replies until it finds the win, after which
  # Q(0) falls under move 1's 0.1.
  network = tiny_networks.GameTreeNetwork(
      children=[[1, 2, 2], [2, 2, 2], [2, 2, 2]],
      rewards=[[0.5, 0.1, 0.0], [0.0, 1.0, 0.0], [0.0] * 3],
      values=[0.0] * 3, prior_logits=[[0.0] * 3] * 3)
  output = policies.run_search(network, np.zeros((1, 1), np.float32), None, 0,
                               _gumbel_config(num_simulations=32, discount=1.0, two_player=True))
  assert output.selected_action.numpy().tolist() == [1]
  assert output.q_values.numpy()[0, 0] < 0.1


@pytest.mark.parametrize('add_noise', [False, True])
def test_illegal_actions_are_never_considered_visited_nor_given_mass(add_noise):
  # Distinct logits; action 1, the favourite, is illegal in rows 1 and 3.
  logits = [0.5, 3.0, 1.0, -1.0, 2.0, 0.0]
  network = tiny_networks.BanditNetwork(action_rewards=[0.3, 0.9, 0.1, 0.2, 0.0, 0.5],
                                        prior_logits=logits)
  legal_actions = np.array([[True] * 6, [True, False, True, True, True, True],
                            [False, False, False, True, False, False],
                            [False, False, True, True, False, True]])
  config = _gumbel_config(num_simulations=12, max_num_considered_actions=4, add_noise=add_noise)
  for seed in range(3):
    output = policies.run_search(network, np.zeros((4, 5), np.float32), legal_actions, seed,
                                 config)
    visits = output.visit_counts.numpy()
    assert (visits[~legal_actions] == 0).all()
    assert (output.search_policy.numpy()[~legal_actions] == 0).all()
    np.testing.assert_allclose(output.search_policy.numpy().sum(axis=1), 1.0, rtol=1e-6)
    assert legal_actions[np.arange(4), output.selected_action.numpy()].all()
    # min(m = 4, legal actions) actions are considered, and each is visited in phase 1.
    np.testing.assert_array_equal((visits > 0).sum(axis=1), [4, 4, 1, 3])
    if not add_noise:
      # Without noise the considered ones are the top 4 legal logits.
      masked = np.where(legal_actions, logits, -np.inf)
      top = np.argsort(-masked, axis=1, kind='stable')[:, :4]
      for row, count in enumerate([4, 4, 1, 3]):
        assert set(np.flatnonzero(visits[row])) == set(top[row, :count].tolist())


def test_same_seed_same_search_and_the_noise_follows_the_seed():
  # Equal arms and logits: only the Gumbel noise tells the 4 actions apart, so the action each
  # of 16 rows plays is the argmax of its noise. Two seeds giving the same 16 choices has
  # probability 4^-16.
  network = tiny_networks.BanditNetwork(action_rewards=[0.0] * 4, prior_logits=[0.0] * 4)
  config = _gumbel_config(num_simulations=8, add_noise=True)
  observations = np.zeros((16, 5), np.float32)
  outputs = [policies.run_search(network, observations, None, seed, config) for seed in (7, 7, 8)]
  for field in policies.SearchOutput._fields:
    np.testing.assert_array_equal(getattr(outputs[0], field).numpy(),
                                  getattr(outputs[1], field).numpy(), err_msg=field)
  assert not np.array_equal(outputs[0].selected_action.numpy(),
                            outputs[2].selected_action.numpy())


def test_without_noise_the_greedy_choice_ignores_the_seed():
  network = tiny_networks.RandomNetwork(5, 4, seed=2)
  observations = np.random.default_rng(1).normal(size=(4, 5)).astype(np.float32)
  config = _gumbel_config(num_simulations=10, discount=0.9)
  first, second = (policies.run_search(network, observations, None, seed, config)
                   for seed in (0, 1))
  for field in policies.SearchOutput._fields:
    np.testing.assert_array_equal(getattr(first, field).numpy(), getattr(second, field).numpy(),
                                  err_msg=field)


def test_choices_take_the_lowest_index_of_the_best_candidate_in_two_plain_reductions():
  """Both Gumbel choices break ties as pUCT does and, like it, avoid tf.argmax's (value, index)
  reduction, which XLA on CPU runs element by element (`selection.first_argmax`)."""
  scores = tf.constant([[1.0, 5.0, 5.0, 9.0], [2.0, 2.0, 2.0, 2.0], [0.0, -1.0, -1.0, 0.0]])
  candidates = tf.constant([[True, True, True, False], [False, True, True, True],
                            [False, True, True, False]])
  best = tf.function(gumbel._best_among, jit_compile=True,  # pylint: disable=protected-access
                     autograph=False)
  np.testing.assert_array_equal(best(scores, candidates).numpy(), [1, 1, 1])
  hlo = best.experimental_get_compiler_ir(scores, candidates)(stage='optimized_hlo')
  # A (value, index) reduction has a tuple result: '= (f32[3]{0}, s32[3]{0}) reduce('.
  assert not [line for line in hlo.splitlines() if re.search(r'= \([^)]*\) reduce\(', line)]
