"""Board symmetries: they fit the games they are meant for, move every column of an item alike,
and the learner trains on the symmetric copy."""

import acme
import numpy as np
import pyspiel
import pytest
import tensorflow as tf
from acme import specs
from acme.utils import loggers
from dm_env import specs as dm_specs

import networks
from agents.muzero import config as config_lib
from agents.muzero import symmetries
from environments import make_environment
from environments import specs as environment_specs


def symmetries_of(game_name, kind):
  game = pyspiel.load_game(game_name)
  channels, height, width = game.observation_tensor_shape()
  return game, symmetries.BoardSymmetries(kind, (height, width, channels),
                                          game.num_distinct_actions())


@pytest.mark.parametrize('game_name, kind, size', [
    ('tic_tac_toe', 'dihedral', 8), ('tic_tac_toe', 'mirror', 2),
    ('connect_four', 'mirror', 2), ('go(board_size=5)', 'dihedral', 8)])
def test_symmetries_fit_the_games_they_are_made_for(game_name, kind, size):
  game, group = symmetries_of(game_name, kind)
  assert group.size == size
  symmetries.check_game(group, game)  # Raises on the first position that disagrees.
  # Every symmetry is a permutation of the cells and of the actions; the first is the identity.
  for table in (group.cells, group.actions, group.inverse):
    assert (np.sort(table, axis=1) == np.arange(table.shape[1])).all()
  np.testing.assert_array_equal(group.actions[0], np.arange(game.num_distinct_actions()))
  np.testing.assert_array_equal(np.take_along_axis(group.actions, group.inverse, axis=1),
                                np.tile(np.arange(game.num_distinct_actions()), (size, 1)))


def test_board_game_presets_have_only_symmetries_their_games_have():
  checked = []
  for game_name in ('tic_tac_toe', 'connect_four', 'go(board_size=9)', 'chess'):
    environment = make_environment(f'openspiel:{game_name}')
    group = symmetries.from_spec(config_lib.board_game(game_name).board_symmetries,
                                 specs.make_environment_spec(environment))
    if group is not None:
      symmetries.check_game(group, environment.game, num_games=2)
      checked.append(game_name)
  assert checked == ['tic_tac_toe', 'connect_four']


def test_check_game_finds_actions_that_do_not_follow_the_planes():
  game, group = symmetries_of('connect_four', 'mirror')
  # The board reflected, the moves not.
  group.actions = group.inverse = np.tile(np.arange(7, dtype=np.int32), (2, 1))
  with pytest.raises(ValueError, match=r"connect_four\(\) does not have board_symmetries='mirror': "
                                       r'after 1 moves, symmetry 1'):
    symmetries.check_game(group, game)


def test_go_pass_stays_a_pass():
  _, group = symmetries_of('go(board_size=5)', 'dihedral')
  assert (group.inverse[:, 25] == 25).all()
  # A quarter turn moves the top-left corner to the bottom-left (np.rot90 turns anticlockwise).
  assert group.inverse[1, 0] == 20


def item_batch(cells, num_cells=9, board_shape=(3, 3, 2), unroll_steps=2):
  """Items whose every column points at one cell: the board's plane 0, the actions, the search
  policies and the legal-action masks."""
  batch = len(cells)
  height, width, channels = board_shape
  one_hot = np.eye(num_cells, dtype=np.float32)[cells]
  board = np.zeros((batch, 1, height * width, channels), np.float32)
  board[np.arange(batch), 0, cells, 0] = 1.0
  board[:, 0, :, 1] = np.arange(height * width)  # Plane 1 stays a board: its cells move, too.
  return {
      'observation': {environment_specs.BOARD: tf.constant(board.reshape(batch, 1, *board_shape)),
                      environment_specs.LEGAL_ACTIONS: tf.constant(one_hot[:, None]),
                      environment_specs.TO_PLAY: tf.zeros([batch, 1], tf.int32)},
      'action': tf.constant(np.tile(np.asarray(cells, np.int32)[:, None], (1, unroll_steps))),
      'search_policy': tf.constant(np.tile(one_hot[:, None], (1, unroll_steps + 1, 1))),
      'reward': tf.constant(np.arange(batch * 3, dtype=np.float32).reshape(batch, 3)),
  }


def test_augment_moves_every_column_of_an_item_by_the_same_symmetry():
  _, group = symmetries_of('tic_tac_toe', 'dihedral')
  cells = [1] * 64
  data = item_batch(cells)
  augmented = group.augment(data, seed=tf.constant([3, 11], tf.int64))
  board = augmented['observation'][environment_specs.BOARD].numpy()
  marked = board[:, 0, :, :, 0].reshape(64, 9).argmax(axis=1)
  np.testing.assert_array_equal(augmented['action'].numpy(), np.stack([marked, marked], axis=1))
  np.testing.assert_array_equal(augmented['search_policy'].numpy().argmax(axis=2),
                                np.stack([marked] * 3, axis=1))
  np.testing.assert_array_equal(
      augmented['observation'][environment_specs.LEGAL_ACTIONS].numpy()[:, 0].argmax(axis=1),
      marked)
  # The edge cell 1 goes to each of the four edge cells; corners and centre are never reached.
  assert set(marked) == {1, 3, 5, 7}
  # Plane 1 went through the item's own symmetry: its cell-1 entry is where cell 1 went.
  plane = board[:, 0, :, :, 1].reshape(64, 9)
  np.testing.assert_array_equal(plane[np.arange(64), marked], 1.0)
  # Rewards, to-play and unlisted columns are untouched.
  np.testing.assert_array_equal(augmented['reward'].numpy(), data['reward'].numpy())


def test_augment_by_the_identity_changes_nothing():
  _, group = symmetries_of('connect_four', 'mirror')
  data = item_batch([0, 3, 6], num_cells=7, board_shape=(6, 7, 2))
  which = tf.zeros([3], tf.int32)
  board = data['observation'][environment_specs.BOARD]
  np.testing.assert_array_equal(group.transform_board(board, which).numpy(), board.numpy())
  np.testing.assert_array_equal(group.transform_actions(data['action'], which).numpy(),
                                data['action'].numpy())
  mirrored = group.transform_actions(data['action'], tf.ones([3], tf.int32)).numpy()
  np.testing.assert_array_equal(mirrored[:, 0], [6, 3, 0])


def board_spec(board_shape, num_actions):
  return specs.EnvironmentSpec(
      observations={environment_specs.BOARD: dm_specs.Array(board_shape, np.float32)},
      actions=dm_specs.DiscreteArray(num_actions), rewards=dm_specs.Array((), np.float32),
      discounts=dm_specs.BoundedArray((), np.float32, 0.0, 1.0))


@pytest.mark.parametrize('kind, spec, message', [
    ('dihedral', board_spec((6, 7, 3), 7), "'dihedral' needs a square board; this one is 6 x 7"),
    ('mirror', board_spec((3, 3, 3), 5), "'mirror' does not fit 5 actions on a 3 x 3 board"),
    ('dihedral', board_spec((9,), 9), r'needs board planes \[H, W, C\]'),
    ('rotate', board_spec((3, 3, 3), 9), "board_symmetries='rotate' is not allowed"),
])
def test_symmetries_that_do_not_fit_are_refused(kind, spec, message):
  with pytest.raises(ValueError, match=message):
    symmetries.from_spec(kind, spec)


def test_symmetries_need_board_observations_and_discrete_actions():
  cartpole = specs.make_environment_spec(make_environment('gym:CartPole-v1'))
  with pytest.raises(ValueError, match="needs observations with a 'board' entry"):
    symmetries.from_spec('mirror', cartpole)
  continuous = specs.EnvironmentSpec(
      observations={environment_specs.BOARD: dm_specs.Array((3, 3, 1), np.float32)},
      actions=dm_specs.BoundedArray((1,), np.float32, -1.0, 1.0),
      rewards=dm_specs.Array((), np.float32), discounts=dm_specs.Array((), np.float32))
  with pytest.raises(ValueError, match='needs discrete actions'):
    symmetries.from_spec('mirror', continuous)
  assert symmetries.from_spec('none', cartpole) is None


def test_config_refuses_an_unknown_kind():
  with pytest.raises(ValueError, match="board_symmetries.*'turn'.*'dihedral'"):
    config_lib.with_overrides(config_lib.board_game('tic_tac_toe'), board_symmetries='turn')


def test_learner_trains_on_the_symmetric_copy(make_replay):
  """A step with symmetries is the step without them on the batch the symmetries made."""
  environment = make_environment('openspiel:tic_tac_toe')
  kwargs = dict(unroll_steps=2, num_simulations=4, batch_size=16, min_replay_size=1,
                prefetch_size=1,
                network=networks.NetworkConfig(torso='board', value_support_size=3,
                                               reward_support_size=3, channels=4, num_blocks=1,
                                               head_hidden_size=8))
  base = config_lib.board_game('tic_tac_toe')
  plain = make_replay(environment,
                      config_lib.with_overrides(base, board_symmetries='none', **kwargs))
  network = plain.builder.make_network()
  actor = plain.builder.make_actor(network, [plain.builder.make_adder(plain.client)])
  acme.EnvironmentLoop(environment, actor, logger=loggers.NoOpLogger()).run(num_episodes=3)
  sample = next(plain.builder.make_dataset_iterator(plain.address))

  augmenting_builder = type(plain.builder)(
      config_lib.with_overrides(base, board_symmetries='dihedral', **kwargs),
      specs.make_environment_spec(environment))
  learners = {}
  for name, builder, data in (
      ('augmenting', augmenting_builder, sample.data),
      ('plain', plain.builder, None)):
    copy = builder.make_network()
    for target, source in zip(copy.variables, network.variables):
      target.assign(source)
    if data is None:
      group = augmenting_builder._symmetries  # pylint: disable=protected-access
      data = group.augment(sample.data, seed=tf.constant([0, 11], tf.int64))
      assert not np.array_equal(data['action'].numpy(), sample.data['action'].numpy())
    batch = type(sample)(info=sample.info, data=data)
    learners[name] = builder.make_learner(copy, iter([batch]), logger=loggers.NoOpLogger())
  augmented, plain_metrics = learners['augmenting'].step(), learners['plain'].step()
  for name in ('value_loss', 'reward_loss', 'policy_loss', 'total_loss'):
    np.testing.assert_allclose(augmented[name], plain_metrics[name], rtol=1e-5)
