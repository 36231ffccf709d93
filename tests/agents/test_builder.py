"""MuZeroBuilder: the replay tables, datasets, actor, learner and reanalyzer it makes from a config."""

import acme
import numpy as np
import pytest
import tensorflow as tf
from acme import specs
from acme.utils import loggers

from agents.muzero import actor as actor_lib
from agents.muzero import builder as builder_lib
from agents.muzero import learning
from agents.muzero import reanalyze
from agents.muzero import replay as replay_lib
from networks import observations
from tests.agents import fakes
from tests.agents import helpers
from tests.agents import user_environments

# dm_env's default dtypes, which the builder maps to the canonical ones (float32, int32).
USER_SPEC = specs.EnvironmentSpec(
    observations=specs.Array((2,), np.float64), actions=specs.DiscreteArray(3, dtype=np.int64),
    rewards=specs.Array((), np.float64), discounts=specs.BoundedArray((), np.float64, 0.0, 1.0))
MAX_FLOAT = np.finfo(np.float64).max


def _reanalysing_config(**overrides):
  return helpers.tiny_config(reanalyze_fraction=0.5, reanalyze_batch_size=6, **overrides)


def _assert_same_specs(actual, expected):
  tf.nest.assert_same_structure(actual, expected)
  for actual_spec, expected_spec in zip(tf.nest.flatten(actual), tf.nest.flatten(expected)):
    assert (actual_spec.shape, actual_spec.dtype) == (expected_spec.shape, expected_spec.dtype)


def test_the_signature_holds_canonical_dtypes_and_the_configs_row_counts():
  # K = 2 actions, K + 1 policies, K + n = 4 rewards; one observation without consistency loss.
  signature = builder_lib.MuZeroBuilder(helpers.tiny_config(), USER_SPEC).signature()
  assert (signature['observation'].shape, signature['observation'].dtype) == ((1, 2), tf.float32)
  assert (signature['action'].shape, signature['action'].dtype) == ((2,), tf.int32)
  assert signature['search_policy'].shape == (3, 3)
  assert signature['reward'].shape == (4,) and signature['reward'].dtype == tf.float32
  with_consistency = builder_lib.MuZeroBuilder(
      helpers.tiny_config(consistency_loss_weight=1.0), USER_SPEC).signature()
  assert with_consistency['observation'].shape == (3, 2)


def test_the_replay_table_follows_the_config_with_a_rate_limiter_per_arrangement():
  config = helpers.tiny_config(samples_per_insert=4.0, min_replay_size=30, max_replay_size=50,
                               priority_exponent=0.6, samples_per_insert_tolerance_rate=0.5)
  builder = builder_lib.MuZeroBuilder(config, USER_SPEC)
  [single] = builder.make_replay_tables(single_process=True)
  [distributed] = builder.make_replay_tables(single_process=False)
  for table in (single, distributed):
    info = table.info
    assert info.name == builder.table == builder_lib.TABLE
    assert info.sampler_options.prioritized.priority_exponent == pytest.approx(0.6)
    assert info.remover_options.fifo and info.max_size == 50
    _assert_same_specs(info.signature, builder.signature())
  # One process: MinSize (any ratio); apart: 4 samples per insert, error buffer
  # max(30 x 0.5 x 4, 2 x 4) = 60 either side of 4 x 30.
  limits = single.info.rate_limiter_info
  assert (limits.min_size_to_sample, limits.min_diff, limits.max_diff) == (30, -MAX_FLOAT, MAX_FLOAT)
  limits = distributed.info.rate_limiter_info
  assert (limits.samples_per_insert, limits.min_size_to_sample) == (4.0, 30)
  assert (limits.min_diff, limits.max_diff) == (120.0 - 60.0, 120.0 + 60.0)


def test_reanalysis_adds_a_short_uniform_table_of_reanalysed_items():
  # batch 8 at fraction 0.5: 4 reanalysed items a batch; chunks of max(4, 6) = 6 items.
  builder = builder_lib.MuZeroBuilder(_reanalysing_config(reanalyze_samples_per_insert=3.0),
                                      USER_SPEC)
  assert len(builder.make_replay_tables(single_process=True)) == 2
  _, table = builder.make_replay_tables(single_process=False)
  info = table.info
  assert info.name == reanalyze.REANALYZE_TABLE
  assert info.sampler_options.uniform and info.remover_options.fifo
  assert info.max_size == 4 * 6
  assert (info.rate_limiter_info.samples_per_insert,
          info.rate_limiter_info.min_size_to_sample) == (3.0, 4)
  _assert_same_specs(info.signature, reanalyze.reanalyzed_signature(builder.signature()))


def test_reanalysis_of_continuous_actions_gets_a_table_of_the_actors_items_and_sources():
  spec = specs.make_environment_spec(fakes.ContinuousChain())
  builder = builder_lib.MuZeroBuilder(_reanalysing_config(num_sampled_actions=3), spec)
  replay_table, reanalyze_table = builder.make_replay_tables(single_process=False)
  # K + 1 = 3 rows of 3 sampled actions of size 1, in both tables: reanalysis replaces them.
  assert replay_table.info.signature['sampled_actions'].shape == (3, 3, 1)
  assert reanalyze_table.info.name == reanalyze.REANALYZE_TABLE
  _assert_same_specs(reanalyze_table.info.signature,
                     reanalyze.reanalyzed_signature(builder.signature()))


def _batched(signature, batch_size):
  return tf.nest.map_structure(
      lambda spec: tf.TensorSpec([batch_size] + spec.shape.as_list(), spec.dtype), signature)


def test_datasets_batch_the_learners_share_of_each_table(make_replay):
  replay = make_replay(fakes.CountingEnvironment(), _reanalysing_config())
  builder = replay.builder
  _assert_same_specs(builder.make_dataset(replay.address).element_spec.data,
                     _batched(builder.signature(), 4))
  _assert_same_specs(builder.make_reanalyzed_dataset(replay.address).element_spec.data,
                     _batched(reanalyze.reanalyzed_signature(builder.signature()), 4))
  without = make_replay(fakes.CountingEnvironment(), helpers.tiny_config())
  assert without.builder.make_reanalyzed_dataset(without.address) is None
  _assert_same_specs(without.builder.make_dataset(without.address).element_spec.data,
                     _batched(without.builder.signature(), 8))


def test_the_actor_answers_in_the_environments_action_dtype():
  builder = builder_lib.MuZeroBuilder(helpers.tiny_config(), USER_SPEC)
  actor = builder.make_actor(builder.make_network(), num_environments=2)
  assert isinstance(actor, actor_lib.MuZeroActor)
  actions = actor.select_actions([np.zeros(2, np.float64), np.ones(2, np.float64)])
  assert actions.dtype == np.int64 and actions.shape == (2,)
  assert set(actions.tolist()) <= {0, 1, 2}


def test_the_learner_holds_what_the_config_asks_for():
  config = helpers.tiny_config(target_update_period=5, consistency_loss_weight=1.0)
  builder = builder_lib.MuZeroBuilder(config, USER_SPEC)
  # MuZeroLearner refuses a target_update_period without a target network: the builder made one.
  learner = builder.make_learner(builder.make_network(), iter(()), logger=loggers.NoOpLogger())
  assert isinstance(learner, learning.MuZeroLearner)
  assert set(learner.state) == {'network', 'optimizer', 'learner_steps', 'consistency_heads'}
  plain = builder_lib.MuZeroBuilder(helpers.tiny_config(), USER_SPEC)
  assert set(plain.make_learner(plain.make_network(), iter(())).state) == {
      'network', 'optimizer', 'learner_steps'}


def test_the_reanalyzer_writes_a_batch_the_reanalyze_table_accepts(make_replay):
  environment = fakes.CountingEnvironment(episode_length=4)
  replay = make_replay(environment, _reanalysing_config())
  builder = replay.builder
  learner = builder.make_learner(
      builder.make_network(), builder.make_dataset(replay.address), replay.client,
      logger=loggers.NoOpLogger(),
      reanalyzed_dataset=builder.make_reanalyzed_dataset(replay.address))
  actor = builder.make_actor(builder.make_network(), [builder.make_adder(replay.client)],
                             variable_source=learner)
  acme.EnvironmentLoop(environment, actor, logger=loggers.NoOpLogger()).run(num_episodes=2)
  actor.close()
  reanalyzer = builder.make_reanalyzer(builder.make_network(), replay.client, learner,
                                       wait_for_weights=True)
  # Reverb refuses an item that does not match its table's signature.
  assert reanalyzer.step() == 6
  reanalyzer.close()
  assert replay.client.server_info()[reanalyze.REANALYZE_TABLE].current_size == 6
  assert reanalyzer.weights_version == learner.learner_steps


def _batch_of_every_item(replay, num_items):
  """One learner batch holding each of the table's `num_items` items once."""
  samples = {int(sample.info.key): sample for sample in replay.sample_every_item(num_items)}
  return tf.nest.map_structure(lambda *leaves: tf.constant(np.stack(leaves)), *samples.values())


@pytest.mark.parametrize('two_player', [True, False])
def test_the_environment_spec_alone_makes_search_and_value_targets_two_player(make_replay,
                                                                             two_player):
  # A user's game, not OpenSpiel, says it has two players by a 'to_play' entry; its twin
  # without that entry is a one-player task. One action, which always pays 1.
  environment = (user_environments.TwoPlayerUserEnvironment(num_actions=1) if two_player
                 else user_environments.UserEnvironment(num_actions=1, observation_shape=(1, 4, 1)))
  config = helpers.tiny_config(batch_size=4, discount=0.9, num_simulations=1)
  replay = make_replay(environment, config)
  assert replay.builder.two_player == two_player
  network = replay.builder.make_network()
  helpers.set_value_bias(network, 2.0)  # v > 0 everywhere; rewards predicted 0.
  value = float(network.initial_inference(observations.dummy_observation(
      network.observation_spec)).value.numpy()[0])
  # The search's one simulation: Q = r + discount * v(child) for one player, r - discount *
  # v(child) for two.
  actor = replay.builder.make_actor(network, [replay.builder.make_adder(replay.client)])
  acme.EnvironmentLoop(environment, actor, logger=loggers.NoOpLogger()).run(num_episodes=1)
  sign = -1.0 if two_player else 1.0
  np.testing.assert_allclose(actor.last_search.q_values[0, 0], sign * 0.9 * value, rtol=1e-5)
  # The learner: the n-step targets flip sign every ply for two players (rewards r_t - r_{t+1}).
  batch = _batch_of_every_item(replay, 4)
  learner = replay.builder.make_learner(network, iter([batch]), logger=loggers.NoOpLogger())
  values_before = network.initial_inference(
      tf.nest.map_structure(lambda x: x[:, 0], batch.data['observation'])).value.numpy()
  learner.step()
  targets = {player: np.asarray(replay_lib.item_targets(
      batch.data, batch.data['bootstrap_value'], config.unroll_steps, config.td_steps,
      config.discount, player).value)[:, 0] for player in (True, False)}
  assert not np.allclose(targets[True], targets[False])
  np.testing.assert_allclose(learner.last_priorities[1], np.abs(
      values_before - targets[two_player]) + config.priority_epsilon, rtol=1e-5)
