"""The replay item: n-step targets, masks and priorities by hand, and what the writer stores."""

import threading

import numpy as np
import pytest
import reverb
import tensorflow as tf

from agents.muzero import replay
from tests.agents import fakes
from tests.agents import helpers

# One 6-step episode (rows 0..5 are decisions, row 6 the final observation, then padding rows
# that repeat the final row): rewards u_0..u_5 = 1, 2, 3, 4, 5, 8; root values 10 .. 60.
# gamma = 0.5, n = 3, K = 2 (3 targets).
GAMMA, TD_STEPS, UNROLL = 0.5, 3, 2
REWARDS = [1, 2, 3, 4, 5, 8]
ROOT_VALUES = [10, 20, 30, 40, 50, 60]


def episode_rows(truncated: bool, final_value: float = 0.0):
  """Rows 0..12 as the writer stores them."""
  padding = 6
  return {
      'reward': np.asarray(REWARDS + [0.0] * (1 + padding), np.float32),
      'discount': np.asarray([1.0] * 5 + [1.0 if truncated else 0.0] + [0.0] * (1 + padding),
                             np.float32),
      'root_value': np.asarray(ROOT_VALUES + [final_value] * (1 + padding), np.float32),
      'decision': np.asarray([1.0] * 6 + [0.0] * (1 + padding), np.float32),
      'absorbing': np.asarray([0.0] * 6 + [0.0 if truncated else 1.0] * (1 + padding),
                              np.float32),
  }


def item(rows, start, td_steps=TD_STEPS, unroll=UNROLL, num_actions=2):
  """The item starting at `start`, batch of one, as tensors."""
  sums = slice(start, start + unroll + td_steps)
  return {
      'reward': tf.constant(rows['reward'][None, sums]),
      'discount': tf.constant(rows['discount'][None, sums]),
      'decision': tf.constant(rows['decision'][None, sums]),
      'absorbing': tf.constant(rows['absorbing'][None, start:start + unroll + 1]),
      'bootstrap_value': tf.constant(
          rows['root_value'][None, start + td_steps:start + td_steps + unroll + 1]),
      'search_policy': tf.zeros([1, unroll + 1, num_actions]),
  }


def targets_of(rows, start, two_player=False, td_steps=TD_STEPS, unroll=UNROLL, gamma=GAMMA):
  data = item(rows, start, td_steps, unroll)
  result = replay.item_targets(data, data['bootstrap_value'], unroll, td_steps, gamma, two_player)
  return tf.nest.map_structure(lambda x: None if x is None else x.numpy()[0], result)


def test_n_step_targets_inside_the_episode():
  # z_0 = 1 + .5*2 + .25*3 + .125*v_3 = 1 + 1 + .75 + 5    = 7.75
  # z_1 = 2 + .5*3 + .25*4 + .125*v_4 = 2 + 1.5 + 1 + 6.25 = 10.75
  # z_2 = 3 + .5*4 + .25*5 + .125*v_5 = 3 + 2 + 1.25 + 7.5 = 13.75
  result = targets_of(episode_rows(truncated=False), 0)
  np.testing.assert_allclose(result.value, [7.75, 10.75, 13.75], rtol=1e-6)
  np.testing.assert_array_equal(result.value_mask, [1, 1, 1])
  np.testing.assert_array_equal(result.reward, [1, 2])


def test_terminal_cuts_the_bootstrap_and_is_absorbing():
  rows = episode_rows(truncated=False)
  # Item from row 2: z_3 = 4 + .5*5 + .25*8 + 0 (d_5 = 0) = 8.5; z_4 = 5 + .5*8 = 9.
  np.testing.assert_allclose(targets_of(rows, 2).value, [13.75, 8.5, 9.0], rtol=1e-6)
  # Item from row 5: z_5 = 8; rows 6 and 7 are absorbing: value 0, trained (mask 1), and the
  # reward after row 6 is a true 0.
  result = targets_of(rows, 5)
  np.testing.assert_allclose(result.value, [8.0, 0.0, 0.0], rtol=1e-6)
  np.testing.assert_array_equal(result.value_mask, [1, 1, 1])
  np.testing.assert_array_equal(result.reward_mask, [1, 1])
  np.testing.assert_array_equal(result.policy_mask, [1, 0, 0])
  np.testing.assert_array_equal(result.observation_mask, [1, 1, 0])


def test_truncation_bootstraps_and_masks_what_lies_past_the_end():
  # Cut by a time limit (d_5 = 1); the actor stored v_6 = 7 on the final row.
  rows = episode_rows(truncated=True, final_value=7.0)
  # z_3 = 4 + .5*5 + .25*8 + .125*v_6 = 9.375; z_4 = 5 + .5*8 + .25*v_6 = 10.75.
  np.testing.assert_allclose(targets_of(rows, 2).value, [13.75, 9.375, 10.75], rtol=1e-6)
  # z_5 = 8 + .5*v_6 = 11.5. Past the last action nothing is known: the final row's and the
  # padding's value, the rewards after them and their policies are all masked, not trained
  # towards the zeros an absorbing state would have.
  result = targets_of(rows, 5)
  np.testing.assert_allclose(result.value[0], 11.5, rtol=1e-6)
  np.testing.assert_array_equal(result.value_mask, [1, 0, 0])
  np.testing.assert_array_equal(result.reward_mask, [1, 0])
  np.testing.assert_array_equal(result.policy_mask, [1, 0, 0])
  np.testing.assert_array_equal(result.observation_mask, [1, 1, 0])


def test_two_player_final_outcome_flips_sign_every_ply():
  # Five plies; player 0 moves at rows 0, 2, 4 and wins with the last move: u_4 = +1 (mover's
  # point of view), terminal. gamma = 1 and n = 9 reach the end from every row.
  rows = {
      'reward': np.asarray([0, 0, 0, 0, 1] + [0] * 10, np.float32),
      'discount': np.asarray([1, 1, 1, 1, 0] + [0] * 10, np.float32),
      'root_value': np.asarray([0.3, -0.2, 0.1, -0.4, 0.9] + [0] * 10, np.float32),
      'decision': np.asarray([1] * 5 + [0] * 10, np.float32),
      'absorbing': np.asarray([0] * 5 + [1] * 10, np.float32),
  }
  np.testing.assert_allclose(
      targets_of(rows, 0, two_player=True, td_steps=9, unroll=4, gamma=1.0).value,
      [1, -1, 1, -1, 1])
  # With n = 1: z_k = u_k - v_{k+1} (the next value is the opponent's):
  #   0.2, -0.1, 0.4, -0.9, and z_4 = 1 - d_4 v_5 = 1.
  np.testing.assert_allclose(
      targets_of(rows, 0, two_player=True, td_steps=1, unroll=4, gamma=1.0).value,
      [0.2, -0.1, 0.4, -0.9, 1.0], rtol=1e-6)


def test_one_target_function_for_numpy_and_tensors():
  rng = np.random.default_rng(0)
  batch, td_steps, num_targets = 16, 4, 3
  length = num_targets + td_steps - 1
  rewards = rng.normal(size=(batch, length)).astype(np.float32)
  discounts = (rng.random((batch, length)) > 0.2).astype(np.float32)
  decisions = (rng.random((batch, length)) > 0.3).astype(np.float32)
  bootstrap = rng.normal(size=(batch, num_targets)).astype(np.float32)
  for two_player in (False, True):
    arrays = (rewards, discounts, decisions, bootstrap)
    from_numpy = replay.value_targets(*arrays, num_targets, td_steps, 0.9, two_player)
    from_tensors = replay.value_targets(*(tf.constant(x) for x in arrays), num_targets, td_steps,
                                        0.9, two_player)
    assert isinstance(from_numpy, np.ndarray)
    np.testing.assert_allclose(from_numpy, from_tensors.numpy(), rtol=1e-5, atol=1e-6)


def test_too_short_rows_are_rejected():
  rows = [tf.zeros([1, 3])] * 3 + [tf.zeros([1, 3])]
  with pytest.raises(ValueError, match='too short'):
    replay.value_targets(*rows, num_targets=3, td_steps=3, discount=1.0)


def test_importance_weights_are_normalised_by_their_max():
  weights = replay.importance_weights(tf.constant([0.1, 0.2, 0.4]), 10, exponent=1.0)
  np.testing.assert_allclose(weights.numpy(), [1.0, 0.5, 0.25], rtol=1e-6)
  weights = replay.importance_weights(tf.constant([0.1, 0.2, 0.4]), 20, exponent=0.5)
  np.testing.assert_allclose(weights.numpy(), [1.0, np.sqrt(0.5), 0.5], rtol=1e-6)


def sampled_items(replay_fixture, num_items: int):
  """{first observation's step: one sample of that item}, once every item was drawn."""
  by_start = {}
  for sample in replay_fixture.sample_every_item(num_items):
    by_start[int(sample.data['observation'][0, 0])] = sample
  return by_start


def test_search_priorities_use_the_items_own_window(make_replay):
  # Episode of 8 actions, K = n = 2: items written during the episode (starts 0..3) and at its
  # end (4..7). With root values v_t = 10 t and rewards u_t = t + 1, gamma = 0.997:
  #   z_t = u_t + gamma u_{t+1} + gamma^2 v_{t+2} for t + 2 <= 7 (and the terminal cuts later).
  # Each item's priority must be |v_t - z_t| of its own rows (the earlier adder gave every item
  # written mid-episode the priority of the window one row earlier).
  config = helpers.tiny_config(initial_priority='search')
  environment = fakes.CountingEnvironment(episode_length=8)
  replay_fixture = make_replay(environment, config)
  writer = replay_fixture.builder.make_adder(replay_fixture.client)
  values = [10.0 * t for t in range(8)]
  helpers.write_episode(writer, environment, values)
  gamma = config.discount
  rewards = [t + 1.0 for t in range(8)]
  discounts = [1.0] * 7 + [0.0]
  items = sampled_items(replay_fixture, 8)
  assert sorted(items) == list(range(8))
  for start, sample in items.items():
    expected = 0.0
    factor = 1.0
    for i in range(2):
      row = start + i
      if row >= 8:
        break
      expected += factor * rewards[row]
      factor *= gamma * discounts[row]
    if start + 2 < 8:
      expected += factor * values[start + 2]
    np.testing.assert_allclose(sample.info.priority, abs(values[start] - expected) + 1e-6,
                               rtol=1e-5, err_msg=f'item starting at row {start}')


def test_new_items_enter_at_the_learners_max_priority(make_replay):
  # 'max' (the default): every item gets the writer's max_priority, whatever its values; with
  # 'search' and zero values, an item without rewards would enter at priority_epsilon.
  environment = fakes.CountingEnvironment(episode_length=4)
  replay_fixture = make_replay(environment, helpers.tiny_config())
  writer = replay_fixture.builder.make_adder(replay_fixture.client)
  writer.max_priority = 3.5
  helpers.write_episode(writer, environment, [0.0] * 4)
  for sample in sampled_items(replay_fixture, 4).values():
    np.testing.assert_allclose(sample.info.priority, 3.5)


def test_writer_stores_the_columns_of_the_signature(make_replay):
  # Truncated episode of 3 actions, K = n = 2 with a target network and the consistency loss:
  # 5 observations per item and the bootstrap observations of rows t + 2 .. t + 4, which past
  # the end repeat the final observation [3, 1] with its value.
  config = helpers.tiny_config(target_update_period=5, consistency_loss_weight=1.0)
  environment = fakes.CountingEnvironment(episode_length=3, truncate=True)
  replay_fixture = make_replay(environment, config)
  writer = replay_fixture.builder.make_adder(replay_fixture.client)
  timestep = environment.reset()
  writer.add_first(timestep)
  for t in range(3):
    timestep = environment.step(1)
    writer.add(np.int64(1), timestep, {'search_policy': np.asarray([0.25, 0.75]),
                                       'root_value': 10.0 * t, 'weights_version': 7},
               final_root_value=99.0)
  signature = replay_fixture.builder.signature()
  items = sampled_items(replay_fixture, 3)
  assert sorted(items) == [0, 1, 2]
  for start, sample in items.items():
    data = sample.data
    tf.nest.map_structure(lambda spec, x: np.testing.assert_equal(
        (tuple(spec.shape), spec.dtype.as_numpy_dtype), (x.shape, x.dtype)), signature, data)
    rows = np.arange(start, start + 3)
    np.testing.assert_array_equal(data['observation'][:, 0], np.minimum(rows, 3))
    np.testing.assert_array_equal(data['bootstrap_observation'][:, 0], np.minimum(rows + 2, 3))
    np.testing.assert_allclose(data['bootstrap_value'],
                               [10.0 * r if r < 3 else 99.0 for r in rows + 2])
    np.testing.assert_array_equal(data['decision'], (np.arange(start, start + 4) < 3) * 1.0)
    np.testing.assert_array_equal(data['absorbing'], np.zeros(3))
    np.testing.assert_array_equal(data['action'], (np.arange(start, start + 2) < 3) * 1)
    assert data['weights_version'] == 7


def test_writer_stores_continuous_actions_and_the_sampled_actions_of_each_search(make_replay):
  # One-step episodes with actions in [-2, 2] (canonical [-1, 1]), K = n = 2, S = 3 samples:
  # row 0 holds the action and the search's samples and policy over them, later rows the final
  # row's zeros.
  config = helpers.tiny_config(num_sampled_actions=3)
  environment = fakes.ContinuousThreshold()
  replay_fixture = make_replay(environment, config)
  writer = replay_fixture.builder.make_adder(replay_fixture.client)
  samples = np.asarray([[-0.5], [0.25], [0.75]], np.float32)
  writer.add_first(environment.reset())
  writer.add(np.asarray([0.25], np.float32), environment.step(np.asarray([0.5])),
             {'search_policy': np.asarray([0.2, 0.5, 0.3]), 'root_value': 1.0,
              'weights_version': 3, 'sampled_actions': samples})
  signature = replay_fixture.builder.signature()
  assert signature['sampled_actions'].shape == (3, 3, 1) and signature['action'].shape == (2, 1)
  data = replay_fixture.sample(1)[0].data
  tf.nest.map_structure(lambda spec, x: np.testing.assert_equal(
      (tuple(spec.shape), spec.dtype.as_numpy_dtype), (x.shape, x.dtype)), signature, data)
  np.testing.assert_array_equal(data['action'], [[0.25], [0.0]])
  np.testing.assert_array_equal(data['sampled_actions'], [samples, np.zeros([3, 1]),
                                                          np.zeros([3, 1])])
  np.testing.assert_allclose(data['search_policy'], [[0.2, 0.5, 0.3], [0, 0, 0], [0, 0, 0]])


def test_a_write_waiting_on_the_rate_limiter_gives_up_at_the_stop():
  # The distributed table (a SampleToInsertRatio limiter) at one sample per insert, never sampled:
  # a few items in, the episode's next insert waits on the limiter, as actors' inserts do once a
  # stopping learner no longer samples. Without `should_stop` that write would wait for ever.
  environment = fakes.CountingEnvironment(episode_length=16)
  config = helpers.tiny_config(samples_per_insert=1.0, min_replay_size=1)
  builder = helpers.Replay(environment, config).builder
  server = reverb.Server(builder.make_replay_tables(single_process=False), port=None)
  stop = threading.Event()
  writer = builder.make_adder(reverb.Client(f'localhost:{server.port}'), should_stop=stop.is_set)
  outcome = helpers.outcome_of_a_wait(
      lambda: helpers.write_episode(writer, environment, [0.0] * 16), stop.set)
  assert isinstance(outcome, replay.WriterStopped), outcome
  assert repr(builder.table) in str(outcome)
  server.stop()


def _waiting_tables():
  """A server with two tables of int32 scalars, each item sampled once then removed: sampling
  waits whenever a table is empty."""
  tables = [reverb.Table(name, sampler=reverb.selectors.Fifo(), remover=reverb.selectors.Fifo(),
                         max_size=10, rate_limiter=reverb.rate_limiters.MinSize(1),
                         max_times_sampled=1, signature=tf.TensorSpec((), tf.int32))
            for name in ('filled_later', 'never_filled')]
  server = reverb.Server(tables, port=None)
  return server, reverb.Client(f'localhost:{server.port}')


def _insert(client, table, values):
  with client.trajectory_writer(num_keep_alive_refs=1) as writer:
    for value in values:
      writer.append(np.int32(value))
      writer.create_item(table, 1.0, writer.history[-1])


def test_a_sample_waiting_on_the_rate_limiter_goes_on_past_the_poll_and_keeps_what_it_had():
  server, client = _waiting_tables()
  sampler = replay.StoppableSampler(client.server_address, 'filled_later', batch_size=3,
                                    should_stop=lambda: False)
  # Two of the batch's three items come at once, the third only after several polls have
  # ended the readers' dataset: the batch still holds all three, each once.
  _insert(client, 'filled_later', [10, 11])
  batch = helpers.outcome_of_a_wait(lambda: next(sampler),
                                    lambda: _insert(client, 'filled_later', [12]))
  assert isinstance(batch, reverb.ReplaySample), batch
  assert sorted(batch.data.tolist()) == [10, 11, 12]
  assert batch.info.key.shape == (3,) and len(set(batch.info.key.tolist())) == 3
  server.stop()


def test_a_sample_waiting_on_the_rate_limiter_gives_up_at_the_stop():
  # As a reanalyzer's sample of the replay once actors no longer insert.
  server, client = _waiting_tables()
  stop = threading.Event()
  sampler = replay.StoppableSampler(client.server_address, 'never_filled', batch_size=3,
                                    should_stop=stop.is_set)
  outcome = helpers.outcome_of_a_wait(lambda: next(sampler), stop.set)
  assert isinstance(outcome, replay.SamplerStopped), outcome
  assert "'never_filled'" in str(outcome)
  server.stop()
