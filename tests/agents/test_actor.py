"""The actor with acme.EnvironmentLoop and the batched loop, and what it writes to Reverb."""

import acme
import dm_env
import numpy as np
import pytest
import tensorflow as tf
from acme import specs
from acme.utils import counting
from acme.utils import loggers

from agents.muzero import actor as actor_lib
from agents.muzero import agent as agent_lib
from tests.agents import fakes
from tests.agents import helpers

GAMMA = 0.997


def test_environment_loop_writes_every_start_position_with_the_signature(make_replay):
  # Episodes of 4 actions; items of K + n + 1 = 5 rows are longer than an episode, so every item
  # runs into the final row and padding.
  environment = fakes.CountingEnvironment(episode_length=4)
  replay = make_replay(environment, helpers.tiny_config())
  network = replay.builder.make_network()
  actor = replay.builder.make_actor(network, [replay.builder.make_adder(replay.client)])
  loop = acme.EnvironmentLoop(environment, actor, logger=loggers.NoOpLogger())
  loop.run(num_episodes=3)

  assert replay.size() == 3 * 4  # One item per action.
  signature = replay.builder.signature()
  starts = set()
  for sample in replay.sample_every_item(12):
    data = sample.data
    tf.nest.map_structure(lambda spec, x: np.testing.assert_equal(
        (tuple(spec.shape), spec.dtype.as_numpy_dtype), (x.shape, x.dtype)), signature, data)
    start = int(data['observation'][0, 0])
    starts.add(start)
    # Rows start..3 are decisions, row 4 the final observation, then copies of it. The item
    # keeps the first observation, K = 2 actions, K + 1 search policies and K + n = 4 rewards.
    num_decisions = 4 - start
    np.testing.assert_array_equal(data['observation'], [[start, 1.0]])
    np.testing.assert_array_equal(data['decision'],
                                  [1.0] * num_decisions + [0.0] * (4 - num_decisions))
    policy_sums = data['search_policy'].sum(axis=-1)
    np.testing.assert_allclose(policy_sums, data['decision'][:3], rtol=1e-6)
    assert data['action'].shape == (2,)
    np.testing.assert_array_equal(data['reward'][:num_decisions], np.arange(start + 1, 5))
    np.testing.assert_array_equal(data['reward'][num_decisions:], 0.0)
    np.testing.assert_array_equal(data['discount'][:num_decisions],
                                  [1.0] * (num_decisions - 1) + [0.0])
    # Terminated: the final row and what follows are absorbing.
    np.testing.assert_array_equal(data['absorbing'], (np.arange(start, start + 3) >= 4) * 1.0)
    assert data['weights_version'] == actor.learner_steps
  assert starts == {0, 1, 2, 3}


def test_truncated_episodes_store_the_bootstrap_value(make_replay):
  environment = fakes.CountingEnvironment(episode_length=3, truncate=True)
  replay = make_replay(environment, helpers.tiny_config())
  network = replay.builder.make_network()
  helpers.set_value_bias(network, 3.0)
  actor = replay.builder.make_actor(network, [replay.builder.make_adder(replay.client)])
  acme.EnvironmentLoop(environment, actor, logger=loggers.NoOpLogger()).run(num_episodes=1)
  final_value = network.initial_inference(tf.constant([[3.0, 1.0]])).value.numpy()[0]
  for sample in replay.sample(20):
    data = sample.data
    start = int(data['observation'][0, 0])
    # Bootstrap rows start + 2 .. start + 4; those at or past the final row 3 hold its value.
    for k, row in enumerate(range(start + 2, start + 5)):
      if row >= 3:
        np.testing.assert_allclose(data['bootstrap_value'][k], final_value, rtol=1e-5)
    np.testing.assert_array_equal(data['absorbing'], 0.0)
    assert data['discount'][2 - start] == 1.0


def test_batched_loop_steps_environments_of_different_lengths(make_replay):
  environments = [fakes.CountingEnvironment(episode_length=length) for length in (2, 3, 5)]
  replay = make_replay(environments[0], helpers.tiny_config())
  adders = [replay.builder.make_adder(replay.client) for _ in environments]
  actor = replay.builder.make_actor(replay.builder.make_network(), adders, num_environments=3)
  counter = counting.Counter()
  loop = actor_lib.BatchedEnvironmentLoop(environments, actor, counter=counter,
                                          logger=loggers.NoOpLogger())
  # 30 lock-step steps: 15 episodes of 2 steps, 10 of 3 and 6 of 5.
  results = loop.run(num_steps=90)
  lengths = sorted(result['episode_length'] for result in results)
  assert lengths == [2] * 15 + [3] * 10 + [5] * 6
  for result in results:
    length = result['episode_length']
    assert result['episode_return'] == length * (length + 1) / 2  # Rewards 1..length.
  assert counter.get_counts() == {'episodes': 31, 'steps': 90}
  assert replay.size() == 90
  with pytest.raises(ValueError, match='num_environments=3'):
    actor.select_action(np.zeros(2, np.float32))


def test_the_actor_plays_the_action_its_search_chose(make_replay):
  # Moves 0 and 1 sample at temperature 1 inside the search, later moves take the most visited.
  config = helpers.tiny_config(num_simulations=6, temperature_schedule=((0, 1.0),),
                                num_exploration_moves=2)
  environments = [fakes.CountingEnvironment(episode_length=5, num_actions=3) for _ in range(4)]
  replay = make_replay(environments[0], config)
  network = replay.builder.make_network()
  actors = [replay.builder.make_actor(network, None, num_environments=4, seed=3)
            for _ in range(2)]
  for actor in actors:
    for index, environment in enumerate(environments):
      actor.observe_first_at(index, environment.reset())
  for move in range(4):
    observations = [np.asarray([move, 1.0], np.float32)] * 4
    actions = [actor.select_actions(observations) for actor in actors]
    chosen = actors[0].last_search.selected_action
    np.testing.assert_array_equal(actions[0], chosen)
    np.testing.assert_array_equal(actions[1], actions[0])  # Same seed, same choices.
    if move >= 2:
      np.testing.assert_array_equal(chosen, np.argmax(actors[0].last_search.visit_counts, axis=1))
    for actor, actor_actions in zip(actors, actions):
      for index, environment in enumerate(environments):
        actor.observe_at(index, actor_actions[index], environment.step(actor_actions[index]))


def test_a_gumbel_actor_writes_the_improved_policy(make_replay):
  # A fresh network predicts value and reward 0 exactly, so every completed Q is 0, sigma is 0
  # and the improved policy softmax(logits + sigma) is the network's prior, whatever the visits
  # (4 simulations over 3 actions: one gets 2, the others 1).
  environment = fakes.CountingEnvironment(episode_length=4, num_actions=3)
  config = helpers.tiny_config(search_policy='gumbel')
  replay = make_replay(environment, config)
  network = replay.builder.make_network()
  actor = replay.builder.make_actor(network, [replay.builder.make_adder(replay.client)])
  timestep = environment.reset()
  actor.observe_first(timestep)
  while not timestep.last():
    action = actor.select_action(timestep.observation)
    assert action == actor.last_search.selected_action[0]
    assert sorted(actor.last_search.visit_counts[0].tolist()) == [1, 1, 2]
    timestep = environment.step(action)
    actor.observe(action, timestep)
  actor.close()

  for sample in replay.sample_every_item(4):
    observation = sample.data['observation'][:1]
    prior = tf.nn.softmax(network.initial_inference(observation).policy_logits).numpy()[0]
    np.testing.assert_allclose(sample.data['search_policy'][0], prior, rtol=1e-5)

  # Evaluation: no Gumbel noise, so the first phase ranks by the prior alone and the most
  # likely action gets the second visit and is played.
  greedy = replay.builder.make_actor(network, None, greedy=True)
  observation = np.asarray([0.0, 1.0], np.float32)
  prior_logits = network.initial_inference(observation[None]).policy_logits.numpy()[0]
  assert greedy.select_action(observation) == np.argmax(prior_logits)


def test_a_continuous_gumbel_actor_plays_the_chosen_sampled_action_and_writes_its_policy(
    make_replay):
  # Sampled MuZero under Gumbel: the search chooses one of the K = 4 slots; the actor plays that
  # slot's action in the environment's bounds [-2, 3] and stores the improved policy over the 4.
  environment = fakes.ContinuousChain(episode_length=5)
  config = helpers.tiny_config(search_policy='gumbel', num_sampled_actions=4, num_simulations=6)
  replay = make_replay(environment, config)
  network = replay.builder.make_network()
  actors = [replay.builder.make_actor(network, [replay.builder.make_adder(replay.client)], seed=4)
            for _ in range(2)]
  episodes = []
  for actor in actors:
    acme.EnvironmentLoop(environment, actor, logger=loggers.NoOpLogger()).run(num_episodes=2)
    actor.close()
    episodes.append(list(environment.actions))
    environment.actions.clear()
    slot = actor.last_search.selected_action[0]
    played = actor.last_sampled_actions[0, slot]
    assert 0 <= slot < 4 and np.all(np.abs(actor.last_sampled_actions) <= 1.0)
    # The action played last is the chosen slot's, mapped from [-1, 1] to [-2, 3].
    np.testing.assert_allclose(episodes[-1][-1], -2.0 + (played[0] + 1.0) / 2.0 * 5.0, rtol=1e-6)
    np.testing.assert_allclose(actor.last_search.search_policy.sum(), 1.0, rtol=1e-6)
  assert len(episodes[0]) == 10 and all(-2.0 <= action <= 3.0 for action in episodes[0])
  assert episodes[1] == episodes[0]  # Same seed, same searches, same actions.
  for sample in replay.sample_every_item(20):
    assert sample.data['search_policy'].shape == (3, 4)
    decisions = sample.data['decision'][:3] > 0
    np.testing.assert_allclose(sample.data['search_policy'][decisions].sum(axis=-1), 1.0,
                               rtol=1e-6)
    # The stored action of each decision row is one of the actions its search sampled.
    for row in np.flatnonzero(decisions[:2]):
      distances = np.abs(sample.data['sampled_actions'][row] - sample.data['action'][row])
      assert distances.min() < 1e-6


@pytest.mark.parametrize('field, bad_step, value, message', [
    ('reward', 3, np.nan, r'environment 0 of 1 returned reward=nan at step 3 of its episode; '
                          r'allowed: finite rewards'),
    ('discount', 3, np.inf, r'environment 0 of 1 returned discount=inf at step 3 of its episode'),
    ('observation', 0, -np.inf, r'environment 0 of 1 returned observation holds 1 non-finite '
                                r'values \(first: -inf\) at reset'),
])
def test_non_finite_timestep_stops_the_agent_before_it_is_stored(field, bad_step, value, message):
  environment = fakes.NonFiniteEnvironment(field, bad_step, value)
  agent = agent_lib.MuZero(specs.make_environment_spec(environment), helpers.tiny_config(),
                           learner_logger=loggers.NoOpLogger())
  try:
    loop = acme.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger())
    with pytest.raises(ValueError, match=message):
      loop.run(num_episodes=2)
  finally:
    agent.close()


def test_non_finite_check_names_the_observation_leaf_and_the_environment():
  observation = {'frames': np.zeros(3, np.uint8),
                 'position': np.asarray([0.0, np.nan, np.inf], np.float32)}
  with pytest.raises(actor_lib.NonFiniteTimestepError,
                     match=r"environment 2 of 4 \(python:envs:make\) returned "
                           r"observation\['position'\] holds 2 non-finite values \(first: nan\) "
                           r'at step 7 of its episode'):
    actor_lib.check_finite(dm_env.transition(1.0, observation),
                           'environment 2 of 4 (python:envs:make)', 7)
  # Integer leaves cannot be non-finite; a FIRST timestep has no reward or discount to check.
  actor_lib.check_finite(dm_env.restart(dict(observation, position=np.zeros(3, np.float32))),
                         'environment 0 of 1', 0)
