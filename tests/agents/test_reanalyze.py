"""Reanalysis: fresh targets at the rows the targets read, written with their source, consumed by
the learner with the source's importance weight and priority."""

import threading

import acme
import numpy as np
import pytest
import reverb
import tensorflow as tf
from acme.utils import loggers

import search
from agents.muzero import agent as agent_lib
from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib
from agents.muzero import reanalyze
from agents.muzero import replay
from tests.agents import fakes
from tests.agents import helpers


class ObservationEchoActor:
  """Stands in for the actor's search: root value = first feature of the root's observation,
  policy = [value, -value], so every output row says which observation it was searched at."""

  learner_steps = 7

  def __init__(self):
    self.searched = []

  def update(self):
    pass  # Its weights never change.

  def search(self, batch, final_rows_allowed=False):
    assert final_rows_allowed  # Rows past an episode's end are searched too.
    first = np.asarray(batch)[:, 0].astype(np.float32)
    self.searched.append(first)
    return search.SearchOutput(
        search_policy=np.stack([first, -first], axis=1), root_value=first,
        visit_counts=np.zeros([len(first), 2], np.int32), q_values=np.zeros([len(first), 2]),
        selected_action=np.zeros(len(first), np.int32))


def items_with_rows(count, rows):
  """Items whose observation row k of item i is [100 i + k, 1] and bootstrap row [100 i + 50 + k, 1]."""
  index = 100.0 * np.arange(count)[:, None] + np.arange(rows)[None, :]
  as_observations = lambda first: np.stack([first, np.ones_like(first)], axis=-1).astype(np.float32)
  return {'observation': as_observations(index),
          'bootstrap_observation': as_observations(index + 50.0),
          'search_policy': np.zeros([count, rows, 2], np.float32),
          'bootstrap_value': np.zeros([count, rows], np.float32),
          'weights_version': np.zeros([count], np.int64),
          'reward': np.ones([count, 4], np.float32)}


def test_fresh_policies_and_values_come_from_each_items_own_rows():
  actor = ObservationEchoActor()
  items = items_with_rows(count=3, rows=3)
  fresh = reanalyze.reanalyze_items(actor, items)
  expected_rows = 100.0 * np.arange(3)[:, None] + np.arange(3)[None, :]
  np.testing.assert_array_equal(fresh['search_policy'][..., 0], expected_rows)
  np.testing.assert_array_equal(fresh['search_policy'][..., 1], -expected_rows)
  np.testing.assert_array_equal(fresh['bootstrap_value'], expected_rows + 50.0)
  np.testing.assert_array_equal(fresh['weights_version'], [7, 7, 7])
  # What the targets do not read is the item's own, and one search served all 18 roots.
  np.testing.assert_array_equal(fresh['reward'], items['reward'])
  assert len(actor.searched) == 1 and len(actor.searched[0]) == 18


def test_items_without_the_rows_reanalysis_reads_are_refused():
  items = items_with_rows(count=2, rows=3)
  del items['bootstrap_observation']
  with pytest.raises(ValueError, match='bootstrap_observation'):
    reanalyze.reanalyze_items(ObservationEchoActor(), items)
  items = items_with_rows(count=2, rows=3)
  items['observation'] = items['observation'][:, :1]
  with pytest.raises(ValueError, match='K \\+ 1 = 3 observations'):
    reanalyze.reanalyze_items(ObservationEchoActor(), items)


def reanalysing_agent(**overrides):
  # Uniform replay, so that reading back every item of the priority table is certain.
  environment = fakes.CountingEnvironment(episode_length=4)
  config = helpers.tiny_config(reanalyze_fraction=0.5, reanalyze_batch_size=4,
                                reanalyze_samples_per_insert=2.0, samples_per_insert=4.0,
                                priority_exponent=0.0, importance_sampling_exponent=0.0,
                                **overrides)
  agent = agent_lib.MuZero(acme.specs.make_environment_spec(environment), config, seed=0)
  return environment, agent


def replayed_items(agent):
  """Every item of the agent's priority table, by key."""
  size = agent.replay_client.server_info()['priority_table'].current_size
  return {int(s.info.key): s for s in helpers.sample_every_item(
      agent.replay_client, 'priority_table', size)}


def test_reanalysed_items_carry_their_source_and_the_reanalyzers_weights():
  environment, agent = reanalysing_agent()
  try:
    acme.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=6)
    assert agent.learner_steps > 0 and agent.reanalyzer.items_written > 0
    replayed = replayed_items(agent)
    reanalysed = list(agent.replay_client.sample(
        reanalyze.REANALYZE_TABLE, 20, emit_timesteps=False, unpack_as_table_signature=True))
    for sample in reanalysed:
      data = sample.data
      source = replayed[int(data[reanalyze.SOURCE_KEY])]
      # The stored rows are the source's; the targets are the reanalyzer's.
      for column in ('observation', 'bootstrap_observation', 'reward', 'action', 'decision'):
        np.testing.assert_array_equal(data[column], source.data[column])
      assert 0 < data[reanalyze.SOURCE_PROBABILITY] <= 1
      assert 0 < data[reanalyze.SOURCE_TABLE_SIZE] <= len(replayed)
      assert 0 <= data['weights_version'] <= agent.learner_steps
      np.testing.assert_allclose(data['search_policy'].sum(axis=-1), 1.0, rtol=1e-5)
  finally:
    agent.close()


def test_learner_priorities_name_the_sources_and_it_reports_staleness():
  environment, agent = reanalysing_agent()
  try:
    acme.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=6)
    own, reanalysed = agent.learner.last_priorities[0][:4], agent.learner.last_priorities[0][4:]
    assert len(own) == 4 and len(reanalysed) == 4
    # Every key written back names an item of the priority table (sources included).
    assert set(agent.learner.last_priorities[0].tolist()) <= set(replayed_items(agent))
    staleness = agent.learner.last_staleness
    assert set(staleness) == {'policy_target_staleness', 'reanalyzed_target_staleness'}
    assert 0 <= staleness['reanalyzed_target_staleness'] <= agent.learner_steps
  finally:
    agent.close()


def test_learner_batch_is_the_replays_share_then_the_reanalysed_items_under_their_source_keys():
  environment, agent = reanalysing_agent()
  try:
    acme.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=4)
    data, keys, probabilities, sizes = agent.learner._next_batch()  # pylint: disable=protected-access
    assert data['observation'].shape[0] == 8 and keys.shape == (8,)
    assert keys.dtype == tf.uint64 and probabilities.dtype == tf.float64
    np.testing.assert_array_less(0.0, probabilities.numpy())
    np.testing.assert_array_less(0, sizes.numpy())
    replayed = {key: sample.data for key, sample in replayed_items(agent).items()}
    # Every row of the batch, reanalysed ones included, is the item its key names in the replay.
    for row, key in enumerate(keys.numpy().tolist()):
      np.testing.assert_array_equal(data['observation'][row].numpy(),
                                    replayed[key]['observation'])
  finally:
    agent.close()


@pytest.mark.parametrize('fraction', [-0.1, 1.0, 0.01])
def test_config_refuses_reanalyze_fractions_that_leave_a_source_empty(fraction):
  # batch_size 8: 0.01 rounds to no reanalysed item, 1.0 to no replay item.
  with pytest.raises(ValueError, match='reanalyze_fraction'):
    helpers.tiny_config(reanalyze_fraction=fraction)


def test_batch_split():
  config = helpers.tiny_config(batch_size=128, reanalyze_fraction=0.25)
  assert config.batch_split == (96, 32)
  assert helpers.tiny_config(batch_size=128).batch_split == (128, 0)
  assert config_lib.with_overrides(config, 'reanalyze_fraction=0.5').batch_split == (64, 64)


def test_a_reanalysed_write_waiting_on_the_rate_limiter_gives_up_at_the_stop():
  # The reanalyze table of a distributed program (a SampleToInsertRatio limiter), never sampled,
  # as once the learner has stopped: a few batches in, the reanalyzer's write waits on the
  # limiter. The replay table is the single-process one (MinSize), so that only the write waits.
  environment = fakes.CountingEnvironment(episode_length=4)
  config = helpers.tiny_config(reanalyze_fraction=0.5, reanalyze_batch_size=4,
                                reanalyze_samples_per_insert=2.0)
  builder = builder_lib.MuZeroBuilder(config, acme.specs.make_environment_spec(environment))
  replay_table = builder.make_replay_tables(single_process=True)[0]
  reanalyze_table = builder.make_replay_tables(single_process=False)[1]
  server = reverb.Server([replay_table, reanalyze_table], port=None)
  client = reverb.Client(f'localhost:{server.port}')
  helpers.write_episode(builder.make_adder(client), environment, [0.0] * 4)
  stop = threading.Event()
  reanalyzer = reanalyze.Reanalyzer(
      ObservationEchoActor(), replay.StoppableSampler(client.server_address, builder.table, 4),
      client, should_stop=stop.is_set)
  # 40 items: more than the limiter lets in unsampled (Reverb's error buffer, here 16 samples).
  outcome = helpers.outcome_of_a_wait(lambda: [reanalyzer.step() for _ in range(10)], stop.set)
  assert isinstance(outcome, replay.WriterStopped), outcome
  assert repr(reanalyze.REANALYZE_TABLE) in str(outcome)
  assert 0 < reanalyzer.items_written < 40
  assert client.server_info()[reanalyze.REANALYZE_TABLE].current_size >= reanalyzer.items_written
  server.stop()


class FixedWeights:
  """A variable source serving one network's weights as learner step `version`."""

  def __init__(self, network, version: int):
    self._groups = {'network': [variable.numpy() for variable in network.variables],
                    'learner_steps': [np.int64(version)]}

  def get_variables(self, names):
    return [self._groups[name] for name in names]


def _continuous_replay(make_replay):
  """A replay of a continuous chain's items (K = 2, S = 3 sampled actions) written by an actor."""
  environment = fakes.ContinuousChain(episode_length=5)
  config = helpers.tiny_config(reanalyze_fraction=0.5, reanalyze_batch_size=4,
                               num_sampled_actions=3)
  replay = make_replay(environment, config)
  actor = replay.builder.make_actor(replay.builder.make_network(),
                                    [replay.builder.make_adder(replay.client)], seed=1)
  acme.EnvironmentLoop(environment, actor, logger=loggers.NoOpLogger()).run(num_episodes=2)
  actor.close()
  return replay


def _stacked_items(replay, num_items):
  """The replay's `num_items` items as one batch of numpy columns."""
  stored = {int(sample.info.key): sample.data for sample in replay.sample_every_item(num_items)}
  return tf.nest.map_structure(lambda *leaves: np.stack(leaves), *stored.values())


def _other_weights(builder, seed):
  """A network of `builder`'s whose weights are set from `seed` (not the initialiser's)."""
  network = builder.make_network()
  for index, variable in enumerate(network.variables):
    variable.assign(tf.random.stateless_normal(variable.shape, (seed, index), stddev=0.5))
  return network


def test_a_reanalysed_continuous_item_holds_new_samples_and_the_policy_over_them(make_replay):
  replay = _continuous_replay(make_replay)
  builder = replay.builder
  items = _stacked_items(replay, 10)
  served = _other_weights(builder, seed=5)
  actor = builder.make_actor(builder.make_network(), variable_source=FixedWeights(served, 42),
                             seed=3)
  fresh = reanalyze.reanalyze_items(actor, items)

  # The actor's columns with its shapes and dtypes: the reanalyze table takes it as it is.
  assert set(fresh) == set(builder.signature())
  for column, spec in builder.signature().items():
    assert fresh[column].shape[1:] == tuple(spec.shape), column
    assert fresh[column].dtype == spec.dtype.as_numpy_dtype, column
  np.testing.assert_array_equal(fresh['weights_version'], [42] * 10)
  # New samples, in the canonical bounds, with a policy over them; the taken actions stay.
  assert np.all(np.abs(fresh['sampled_actions']) <= 1.0)
  decisions = items['decision'][:, :3] > 0
  # Rows past an episode's end are no decisions: items at steps 0..4 of 5 have 3, 3, 3, 2, 1.
  assert decisions.sum() == 2 * 12
  assert not np.isclose(fresh['sampled_actions'][decisions],
                        items['sampled_actions'][decisions]).any()
  np.testing.assert_allclose(fresh['search_policy'].sum(axis=-1), 1.0, rtol=1e-6)
  for column in ('action', 'observation', 'bootstrap_observation', 'reward', 'decision'):
    np.testing.assert_array_equal(fresh[column], items[column], err_msg=column)

  # Computed with the weights it reports: an actor holding version 42's weights, with the same
  # seed, searches the same roots to the same samples, policies and values.
  reference = builder.make_actor(served, seed=3)
  roots = np.concatenate([items['observation'].reshape(30, 2),
                          items['bootstrap_observation'].reshape(30, 2)])
  output = reference.search(roots, final_rows_allowed=True)
  np.testing.assert_array_equal(fresh['sampled_actions'],
                                reference.last_sampled_actions[:30].reshape(10, 3, 3, 1))
  np.testing.assert_array_equal(fresh['search_policy'], output.search_policy[:30].reshape(10, 3, 3))
  np.testing.assert_array_equal(fresh['bootstrap_value'], output.root_value[30:].reshape(10, 3))
  # The actor's own initial weights would have sampled other actions from the same keys.
  unserved = builder.make_actor(builder.make_network(), seed=3)
  unserved.search(roots, final_rows_allowed=True)
  assert not np.isclose(unserved.last_sampled_actions[:30].reshape(10, 3, 3, 1),
                        fresh['sampled_actions']).any()


def test_continuous_items_need_an_actor_that_samples_as_many_actions(make_replay):
  replay = _continuous_replay(make_replay)
  items = _stacked_items(replay, 10)
  other = make_replay(fakes.ContinuousChain(), helpers.tiny_config(reanalyze_fraction=0.5,
                                                                   num_sampled_actions=4))
  actor = other.builder.make_actor(other.builder.make_network())
  with pytest.raises(ValueError, match=r'sampled_actions of shape \(10, 3, 3, 1\) need an actor '
                                       r'.* its latest search sampled \(60, 4, 1\)'):
    reanalyze.reanalyze_items(actor, items)


def test_the_reanalyzer_writes_continuous_items_the_learner_mixes(make_replay):
  replay = _continuous_replay(make_replay)
  builder = replay.builder
  learner = builder.make_learner(
      builder.make_network(), builder.make_dataset(replay.address), replay.client,
      logger=loggers.NoOpLogger(),
      reanalyzed_dataset=builder.make_reanalyzed_dataset(replay.address))
  reanalyzer = builder.make_reanalyzer(builder.make_network(), replay.client, learner,
                                       wait_for_weights=True)
  # Reverb refuses an item that does not match the reanalyze table's signature.
  assert reanalyzer.step() == 4
  reanalyzer.close()
  stored = {int(sample.info.key): sample.data for sample in replay.sample_every_item(10)}
  for sample in replay.client.sample(reanalyze.REANALYZE_TABLE, 8, emit_timesteps=False,
                                     unpack_as_table_signature=True):
    source = stored[int(sample.data[reanalyze.SOURCE_KEY])]
    np.testing.assert_array_equal(sample.data['action'], source['action'])
    assert np.all(np.abs(sample.data['sampled_actions']) <= 1.0)
  result = learner.step()
  assert np.isfinite(result['policy_loss']) and np.isfinite(result['total_loss'])
  assert learner.last_staleness['reanalyzed_target_staleness'] == 1.0


@pytest.mark.parametrize('search_policy', ['muzero', 'gumbel'])
def test_the_single_process_agent_reanalyses_continuous_items(search_policy):
  environment = fakes.ContinuousChain(episode_length=5)
  config = helpers.tiny_config(reanalyze_fraction=0.5, reanalyze_batch_size=4,
                               reanalyze_samples_per_insert=2.0, samples_per_insert=4.0,
                               num_sampled_actions=3, search_policy=search_policy)
  logger = loggers.InMemoryLogger()
  agent = agent_lib.MuZero(acme.specs.make_environment_spec(environment), config, seed=0,
                           learner_logger=logger)
  try:
    acme.EnvironmentLoop(environment, agent, logger=loggers.NoOpLogger()).run(num_episodes=8)
    assert agent.learner_steps >= 5 and agent.reanalyzer.items_written > 0
    assert len(logger.data) == agent.learner_steps
    for record in logger.data:
      assert np.isfinite([record['total_loss'], record['policy_loss']]).all(), record
      assert 'reanalyzed_target_staleness' in record
    assert all(-2.0 <= action <= 3.0 for action in environment.actions)
  finally:
    agent.close()
