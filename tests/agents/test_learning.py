"""The learner: priorities written back to Reverb, variable groups, checkpoints, board games."""

import dataclasses

import acme
import numpy as np
import pytest
import tensorflow as tf
import tree
from acme.utils import counting
from acme.utils import loggers

import networks
from agents.muzero import config as config_lib
from agents.muzero import learning
from agents.muzero import replay as replay_lib
from environments import make_environment
from tests.agents import fakes
from tests.agents import helpers


def filled_replay(make_replay, config, num_episodes=3, environment=None):
  environment = environment or fakes.CountingEnvironment(episode_length=4)
  replay = make_replay(environment, config)
  actor = replay.builder.make_actor(replay.builder.make_network(),
                                    [replay.builder.make_adder(replay.client)])
  acme.EnvironmentLoop(environment, actor, logger=loggers.NoOpLogger()).run(num_episodes=num_episodes)
  return replay


def make_learner(replay, network=None, dataset=None, **kwargs):
  network = network or replay.builder.make_network()
  dataset = dataset if dataset is not None else replay.builder.make_dataset(replay.address)
  return replay.builder.make_learner(network, dataset, replay.client,
                                     logger=loggers.NoOpLogger(), **kwargs)


def test_priorities_written_back_set_the_sampling_probabilities(make_replay):
  # 12 items; a batch of 8 re-prioritises some of them, alpha = 1.
  replay = filled_replay(make_replay, helpers.tiny_config(batch_size=8))
  learner = make_learner(replay)
  learner.step()
  keys, priorities = learner.last_priorities
  assert len(keys) == 8 and np.all(priorities > 0)
  written = dict(zip(keys.tolist(), priorities.tolist()))

  samples = replay.sample_every_item(12)
  table_priorities = {int(s.info.key): float(s.info.priority) for s in samples}
  for key, priority in written.items():
    np.testing.assert_allclose(table_priorities[key], priority, rtol=1e-5)
  total = sum(table_priorities.values())
  for sample in samples:
    # P(i) = p_i^alpha / sum_k p_k^alpha with alpha = 1.
    np.testing.assert_allclose(sample.info.probability, sample.info.priority / total, rtol=1e-4)
    assert sample.info.table_size == 12


def test_uniform_replay_gets_no_priority_writes(make_replay):
  # alpha = 0 never reads priorities: the items keep the priority they entered with (1 under
  # 'max' before any learner step), while the learner still publishes its batch maximum.
  replay = filled_replay(make_replay, helpers.tiny_config(batch_size=8, priority_exponent=0.0))
  learner = make_learner(replay)
  learner.step()
  samples = replay.sample_every_item(12)
  np.testing.assert_array_equal([float(s.info.priority) for s in samples], 1.0)
  np.testing.assert_allclose(learner.get_variables(['max_priority'])[0][0],
                             learner.last_priorities[1].max())


def test_learner_priority_is_value_error_at_the_first_position(make_replay):
  replay = filled_replay(make_replay, helpers.tiny_config(batch_size=4), num_episodes=1)
  network = replay.builder.make_network()
  helpers.set_value_bias(network, 2.0)
  config = replay.builder.config
  # Run the step on a known sample: the value the priority uses is the network's before update.
  sample = next(replay.builder.make_dataset_iterator(replay.address))
  observation = sample.data['observation'][:, 0]
  values_before = network.initial_inference(observation).value.numpy()
  learner = make_learner(replay, network, dataset=iter([sample]))
  learner.step()
  keys, priorities = learner.last_priorities
  np.testing.assert_array_equal(keys, sample.info.key.numpy())
  value_targets = replay_lib.item_targets(
      sample.data, sample.data['bootstrap_value'], config.unroll_steps, config.td_steps,
      config.discount, replay.builder.two_player).value.numpy()
  np.testing.assert_allclose(priorities,
                             np.abs(values_before - value_targets[:, 0]) + config.priority_epsilon,
                             rtol=1e-5)
  # The batch's largest priority is what new items get: published as 'max_priority'.
  np.testing.assert_allclose(learner.get_variables(['max_priority'])[0][0], priorities.max())


def test_target_network_bootstraps_from_stored_observations(make_replay):
  config = helpers.tiny_config(batch_size=4, target_update_period=3)
  replay = filled_replay(make_replay, config, num_episodes=1)
  network = replay.builder.make_network()
  # A fresh network's values are all about 0, which would not tell the target's from zeros.
  helpers.set_value_bias(network, 1.0)
  sample = next(replay.builder.make_dataset_iterator(replay.address))
  learner = make_learner(replay, network, dataset=iter([sample] * 4))
  learner.step()  # Copies the network into the target network at step 0.
  target = learner._target_network  # pylint: disable=protected-access
  for got, want in zip(target.variables, network.variables):
    assert got is not want
  observation = sample.data['bootstrap_observation']
  helpers.set_value_bias(network, 2.0)  # The online network moves on; the target does not.
  values = learner._bootstrap_values(sample.data).numpy()  # pylint: disable=protected-access
  assert np.abs(values).min() > 0.1
  np.testing.assert_allclose(values.reshape(-1), target.initial_inference(
      tf.reshape(observation, [-1, 2])).value.numpy(), rtol=1e-5)
  assert not np.allclose(values.reshape(-1), network.initial_inference(
      tf.reshape(observation, [-1, 2])).value.numpy())
  learner.step()
  learner.step()
  online_at_step_3 = [variable.numpy() for variable in network.variables]
  learner.step()  # Step 3: the target network takes the weights of step 3, then training goes on.
  for got, want in zip(target.variables, online_at_step_3):
    np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize('space', config_lib.CONSISTENCY_SPACES)
def test_consistency_loss_compares_latents_in_the_configured_space(make_replay, space):
  config = helpers.tiny_config(batch_size=4, consistency_loss_weight=1.0, consistency_space=space,
                               consistency_projection_size=6)
  replay = filled_replay(make_replay, config, num_episodes=1)
  network = replay.builder.make_network()
  sample = next(replay.builder.make_dataset_iterator(replay.address))
  learner = make_learner(replay, network, dataset=iter([sample]))
  trained = learner._variables  # pylint: disable=protected-access
  metrics = learner.step()
  # 'latent' trains no heads; its loss is the mean over the unroll of the squared distance
  # between the dynamics' latents and the representation's, >= 0. 'projection' (a negative
  # cosine) trains SimSiam heads besides the network.
  if space == 'latent':
    assert [id(v) for v in trained] == [id(v) for v in network.trainable_variables]
    assert metrics['consistency_loss'] > 0
  else:
    assert len(trained) > len(network.trainable_variables)
    assert -1.0 <= metrics['consistency_loss'] <= 1.0


@pytest.mark.parametrize('environment', [fakes.CountingEnvironment, fakes.ContinuousChain],
                         ids=['discrete', 'continuous'])
def test_xla_step_gives_the_graph_step_losses_priorities_and_weights(make_replay, environment):
  # A target network, SimSiam consistency heads and clipping all in the compiled step; episodes
  # of 4 steps end inside most items, so the random actions past their ends count too.
  config = helpers.tiny_config(
      batch_size=12, num_sampled_actions=3, target_update_period=1, consistency_loss_weight=1.0,
      consistency_space='projection', consistency_projection_size=6, max_gradient_norm=100.0,
      # SGD moves each weight by lr x its gradient (momentum 0.9 from the second step), so the
      # weights compare the gradients; Adam's first step is lr x sign(gradient), which a
      # rounding difference flips for gradients near 0.
      optimizer='sgd', learning_rate=0.05)
  replay = filled_replay(make_replay, config, environment=environment(episode_length=4))
  # All 12 items once, rather than a sampled batch, which may miss the 3 that unroll past an
  # episode's end.
  by_key = {int(sample.info.key): sample for sample in replay.sample_every_item(12)}
  sample = tree.map_structure(lambda *items: tf.constant(np.stack(items)),
                              *(by_key[key] for key in sorted(by_key)))
  graph, xla = (learning.MuZeroLearner(
      replay.builder.make_network(), iter([sample] * 2),
      dataclasses.replace(config, learner_xla=learner_xla), replay_client=None,
      logger=loggers.NoOpLogger(), target_network=replay.builder.make_network(),
      two_player=False) for learner_xla in (False, True))
  helpers.set_value_bias(graph.network, 2.0)  # Values far from the targets: large gradients.
  for got, want in zip(xla._variables, graph._variables):  # pylint: disable=protected-access
    got.assign(want)
  before = [variable.numpy() for variable in graph._variables]  # pylint: disable=protected-access
  for _ in range(2):  # The second step reads the first's weights and momentum.
    graph_metrics, xla_metrics = graph.step(), xla.step()
    for name in ('total_loss', 'value_loss', 'reward_loss', 'policy_loss', 'consistency_loss',
                 'l2_loss', 'gradient_norm', 'mean_priority'):
      np.testing.assert_allclose(xla_metrics[name], graph_metrics[name], rtol=1e-4, err_msg=name)
    np.testing.assert_array_equal(xla.last_priorities[0], graph.last_priorities[0])
    np.testing.assert_allclose(xla.last_priorities[1], graph.last_priorities[1], rtol=1e-4)
  assert graph_metrics['value_loss'] > 0.1 and graph_metrics['consistency_loss'] != 0
  moved = [after.numpy() - start for after, start in zip(graph._variables, before)]  # pylint: disable=protected-access
  largest = max(np.abs(delta).max() for delta in moved)
  assert largest > 1e-2
  for variable, start, delta in zip(xla._variables, before, moved):  # pylint: disable=protected-access
    np.testing.assert_allclose(variable.numpy() - start, delta, rtol=1e-3, atol=1e-4 * largest,
                               err_msg=variable.name)
  # The step really went through XLA: its compute has an HLO module.
  arguments = sample.data, tf.ones([config.batch_size]), sample.data['action']
  hlo = xla._compute_step.experimental_get_compiler_ir(*arguments)(stage='hlo')  # pylint: disable=protected-access
  assert 'HloModule' in hlo


def test_get_variables_honours_names(make_replay):
  replay = filled_replay(make_replay, helpers.tiny_config(), num_episodes=1)
  network = replay.builder.make_network()
  learner = make_learner(replay, network)
  groups = network.variable_groups()
  steps, dynamics, everything = learner.get_variables(['learner_steps', 'dynamics', 'network'])
  assert steps == [0]
  assert len(dynamics) == len(groups['dynamics']) and len(everything) == len(groups['network'])
  for value, variable in zip(dynamics, groups['dynamics']):
    np.testing.assert_array_equal(value, variable.numpy())
  with pytest.raises(ValueError, match='unknown variable group'):
    learner.get_variables(['policy'])


def test_checkpoint_restores_network_optimizer_and_step(make_replay, tmp_path):
  replay = filled_replay(make_replay, helpers.tiny_config(), num_episodes=2)
  learner = make_learner(replay, checkpoint_directory=str(tmp_path))
  assert learner.restore_checkpoint() is False
  learner.step()
  learner.step()
  learner.save_checkpoint()
  expected = learner.get_variables(['network'])[0]
  optimizer_state = [v.numpy() for v in learner.state['optimizer'].variables]
  assert len(optimizer_state) > 1

  restored = make_learner(replay, checkpoint_directory=str(tmp_path))
  assert restored.restore_checkpoint() is True
  assert restored.learner_steps == 2
  for got, want in zip(restored.get_variables(['network'])[0], expected):
    np.testing.assert_array_equal(got, want)
  restored_optimizer_state = [v.numpy() for v in restored.state['optimizer'].variables]
  assert len(restored_optimizer_state) == len(optimizer_state)
  for got, want in zip(restored_optimizer_state, optimizer_state):
    np.testing.assert_array_equal(got, want)
  restored.step()
  assert restored.learner_steps == 3
  assert learning.default_device() == ('/GPU:0' if tf.config.list_logical_devices('GPU')
                                       else '/CPU:0')


@pytest.mark.parametrize('learner_xla', [False, True])
def test_non_finite_loss_is_refused_before_the_update(make_replay, tmp_path, learner_xla):
  # With XLA too: its check runs in the compiled part, which must not assume finite numbers.
  replay = filled_replay(make_replay, helpers.tiny_config(batch_size=4, learner_xla=learner_xla),
                         num_episodes=1)
  good = next(replay.builder.make_dataset_iterator(replay.address))
  reward = good.data['reward'].numpy().copy()
  reward[0, 0] = np.nan  # Row 0 is a decision row: its reward reaches value and reward losses.
  bad = good._replace(data=dict(good.data, reward=tf.constant(reward)))
  counter = counting.Counter()
  learner = make_learner(replay, dataset=iter([good, bad]), counter=counter,
                         checkpoint_directory=str(tmp_path))
  learner.step()
  weights = learner.get_variables(['network', 'max_priority'])
  optimizer_state = [v.numpy() for v in learner.state['optimizer'].variables]
  priorities = learner.last_priorities
  with pytest.raises(learning.NonFiniteError,
                     match=r'learner step 2: non-finite .*priorities of 1 of 4 items; the '
                           r'update was not applied.*learner_steps=1 .*non-finite values in '
                           r'reward \('):
    learner.step()
  assert learner.learner_steps == 1 and counter.get_counts()['learner_steps'] == 1
  for got, want in zip(learner.get_variables(['network', 'max_priority']), weights):
    for got_array, want_array in zip(got, want):
      np.testing.assert_array_equal(got_array, want_array)
  for got, want in zip(learner.state['optimizer'].variables, optimizer_state):
    np.testing.assert_array_equal(got.numpy(), want)
  assert learner.last_priorities is priorities
  learner.save_checkpoint()  # The weights are the first step's, finite.


def test_checkpoint_of_non_finite_weights_is_refused_and_the_last_one_kept(make_replay, tmp_path):
  replay = filled_replay(make_replay, helpers.tiny_config(), num_episodes=1)
  network = replay.builder.make_network()
  learner = make_learner(replay, network, checkpoint_directory=str(tmp_path))
  learner.step()
  learner.save_checkpoint()
  saved = learner.get_variables(['network'])[0]
  poisoned = network.trainable_variables[0]
  poisoned.assign(np.full(poisoned.shape, np.nan, np.float32))
  assert learner.non_finite_variables() == [poisoned.name]
  with pytest.raises(learning.NonFiniteError,
                     match=r'not saving learner step 1: 1 variables hold non-finite values'):
    learner.save_checkpoint()
  restored = make_learner(replay, checkpoint_directory=str(tmp_path))
  assert restored.restore_checkpoint()
  for got, want in zip(restored.get_variables(['network'])[0], saved):
    np.testing.assert_array_equal(got, want)


def _weights_after_steps(learner, steps):
  for _ in range(steps):
    learner.step()
  learner.save_checkpoint()
  return learner.learner_steps, learner.get_variables(['network'])[0]


def test_checkpoint_interrupted_while_written_is_never_restored(make_replay, tmp_path):
  # A kill while saving step 3 leaves its files, partly written, and the index still naming step 2.
  replay = filled_replay(make_replay, helpers.tiny_config(), num_episodes=1)
  learner = make_learner(replay, checkpoint_directory=str(tmp_path))
  step, saved = _weights_after_steps(learner, 2)
  (tmp_path / 'ckpt-3.index').write_bytes(b'\x00' * 7)
  (tmp_path / 'ckpt-3.data-00000-of-00001').write_bytes(b'partial')
  (tmp_path / 'ckpt-3_temp').mkdir()
  restored = make_learner(replay, checkpoint_directory=str(tmp_path))
  assert restored.restore_checkpoint() and restored.learner_steps == step == 2
  for got, want in zip(restored.get_variables(['network'])[0], saved):
    np.testing.assert_array_equal(got, want)


def test_damaged_latest_checkpoint_falls_back_to_the_one_before(make_replay, tmp_path, caplog):
  replay = filled_replay(make_replay, helpers.tiny_config(), num_episodes=1)
  learner = make_learner(replay, checkpoint_directory=str(tmp_path))
  first_step, first = _weights_after_steps(learner, 1)
  _weights_after_steps(learner, 1)
  data = tmp_path / 'ckpt-2.data-00000-of-00001'
  data.write_bytes(data.read_bytes()[:len(data.read_bytes()) // 2])
  restored = make_learner(replay, checkpoint_directory=str(tmp_path))
  assert restored.restore_checkpoint() and restored.learner_steps == first_step == 1
  for got, want in zip(restored.get_variables(['network'])[0], first):
    np.testing.assert_array_equal(got, want)
  assert 'ckpt-2 cannot be read' in caplog.text and 'trying the one before' in caplog.text
  (tmp_path / 'ckpt-1.index').write_bytes(b'damaged')
  with pytest.raises(ValueError, match='none of the learner checkpoints can be read: .*ckpt-2: .*ckpt-1: '):
    make_learner(replay, checkpoint_directory=str(tmp_path)).restore_checkpoint()


def test_board_game_sequences_train_with_dict_observations(make_replay):
  environment = make_environment('openspiel:tic_tac_toe')
  config = config_lib.with_overrides(
      config_lib.board_game('tic_tac_toe'), unroll_steps=2, num_simulations=4, batch_size=4,
      min_replay_size=1, prefetch_size=1,
      network=networks.NetworkConfig(torso='board', value_support_size=3, reward_support_size=3,
                                     channels=4, num_blocks=1, head_hidden_size=8))
  replay = make_replay(environment, config)
  assert replay.builder.two_player
  network = replay.builder.make_network()
  actor = replay.builder.make_actor(network, [replay.builder.make_adder(replay.client)])
  result = acme.EnvironmentLoop(environment, actor, logger=loggers.NoOpLogger()).run_episode()
  length = result['episode_length']
  assert replay.size() == length
  # The item from the first move: its n = 9 step target is the outcome for the first player.
  final_outcome = environment.player_returns()[0]
  first_moves = 0
  for sample in replay.sample_every_item(length):
    data = sample.data
    assert set(data['observation']) == {'board', 'legal_actions', 'to_play'}
    # Plane 0 marks the empty cells: all 9 before the first move. (This read `board[0].sum() == 0`,
    # true of no position, so the checks below never ran.)
    if data['observation']['board'][0][..., 0].sum() == 9:
      first_moves += 1
      value = first_item_targets(data, config, replay.builder.two_player)
      np.testing.assert_allclose(value[0], final_outcome)
      # The second position's player is the opponent: the opposite outcome.
      np.testing.assert_allclose(value[1], -final_outcome)
  assert first_moves > 0  # Drawn at least once.
  learner = make_learner(replay, network)
  metrics = learner.step()
  assert np.isfinite(metrics['total_loss'])
  assert metrics['mean_importance_weight'] == 1.0  # Uniform replay, beta = 0.


def first_item_targets(data, config, two_player):
  batch = tf.nest.map_structure(lambda x: tf.constant(np.asarray(x)[None]), data)
  return replay_lib.item_targets(batch, batch['bootstrap_value'], config.unroll_steps,
                                 config.td_steps, config.discount, two_player).value.numpy()[0]
