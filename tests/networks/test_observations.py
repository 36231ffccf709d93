"""Tests of networks.observations: what the network reads of each observation layout."""

import numpy as np
import pytest
import tensorflow as tf
from dm_env import specs

from networks import observations

BOARD_SPEC = {
    'board': specs.Array((3, 3, 3), np.float32),
    'legal_actions': specs.Array((9,), np.float32),
    'to_play': specs.Array((), np.int32),
}


def test_uint8_images_scale_to_unit_interval():
  frames = np.array([[[[0, 255]], [[51, 102]]]], np.uint8)
  np.testing.assert_allclose(observations.network_input(frames), [[[[0.0, 1.0]], [[0.2, 0.4]]]])


def test_board_dict_gets_to_play_plane_and_drops_legal_actions():
  board = np.arange(2 * 27, dtype=np.float32).reshape(2, 3, 3, 3)
  batch = {'board': board, 'legal_actions': np.ones((2, 9), np.float32),
           'to_play': np.array([0, 1], np.int32)}
  features = observations.network_input(batch).numpy()
  assert features.shape == (2, 3, 3, 4)
  np.testing.assert_array_equal(features[..., :3], board)
  np.testing.assert_array_equal(features[0, ..., 3], np.zeros((3, 3)))
  np.testing.assert_array_equal(features[1, ..., 3], np.ones((3, 3)))
  assert observations.network_input_shape(BOARD_SPEC) == (3, 3, 4)


@pytest.mark.parametrize('spec, torso', [
    (specs.Array((4,), np.float32), 'mlp'),
    (specs.Array((4, 3), np.float64), 'mlp'),
    (specs.Array((96, 96, 4), np.uint8), 'resnet'),
    (specs.Array((6, 7, 2), np.float32), 'board'),
    (BOARD_SPEC, 'board'),
])
def test_infer_torso(spec, torso):
  assert observations.infer_torso(spec) == torso


def test_unsupported_observations_are_rejected_with_reason():
  with pytest.raises(ValueError, match='rank 4'):
    observations.infer_torso(specs.Array((2, 3, 4, 1), np.float32))
  with pytest.raises(ValueError, match="no 'board' or 'frames' entry"):
    observations.infer_torso({'pixels': specs.Array((3, 3, 1), np.float32)})


def test_dummy_observation_follows_spec():
  dummy = observations.dummy_observation(BOARD_SPEC, batch_size=2)
  assert dummy['board'].shape == (2, 3, 3, 3) and dummy['to_play'].dtype == tf.int32


def test_network_input_is_idempotent():
  for batch in (np.array([[0, 128, 255]], np.uint8)[:, None, None, :],
                {'board': np.ones((1, 3, 3, 3), np.float32), 'to_play': np.array([1], np.int32)}):
    once = observations.network_input(batch)
    np.testing.assert_array_equal(observations.network_input(once), once)


ATARI_SPEC = {
    'frames': specs.Array((2, 2, 3), np.uint8),
    'past_actions': specs.BoundedArray((2,), np.int32, 0, 3),
}


def test_atari_dict_gets_one_plane_per_past_action_scaled_by_num_actions():
  frames = np.full((2, 2, 2, 3), 255, np.uint8)
  batch = {'frames': frames, 'past_actions': np.array([[0, 3], [2, 1]], np.int32)}
  features = observations.network_input(batch, num_actions=4).numpy()
  assert features.shape == (2, 2, 2, 5)
  np.testing.assert_array_equal(features[..., :3], np.ones((2, 2, 2, 3)))
  # Planes in the order of the past actions, oldest first, constant at a / A.
  np.testing.assert_allclose(features[0, ..., 3:], np.broadcast_to([0.0, 0.75], (2, 2, 2)))
  np.testing.assert_allclose(features[1, ..., 3:], np.broadcast_to([0.5, 0.25], (2, 2, 2)))
  np.testing.assert_array_equal(observations.network_input(features), features)  # Idempotent.
  assert observations.network_input_shape(ATARI_SPEC) == (2, 2, 5)
  assert observations.infer_torso(ATARI_SPEC) == 'resnet'


def test_past_actions_need_num_actions():
  batch = observations.dummy_observation(ATARI_SPEC, batch_size=1)
  with pytest.raises(ValueError, match="'past_actions' need num_actions"):
    observations.network_input(batch)


def test_the_network_reads_the_entries_environments_specs_names():
  # networks may not import environments, so the names are written twice; they must agree.
  from environments import specs as environment_specs  # pylint: disable=g-import-not-at-top
  assert observations.BOARD_KEY == environment_specs.BOARD
  assert observations.TO_PLAY_KEY == environment_specs.TO_PLAY
