"""Behaviour of `environments.make_environment` for gymnasium, Atari, OpenSpiel and python: ids."""

import dm_env
import gymnasium
import numpy as np
import pyspiel
import pytest
from acme import specs

from environments import atari
from environments import gym_environment
from environments import make_environment


def _roll(environment, actions):
  """Resets, then applies `actions` (restarting nothing); returns every timestep."""
  timesteps = [environment.reset()]
  for action in actions:
    timesteps.append(environment.step(action))
    if timesteps[-1].last():
      break
  return timesteps


def _assert_32_bit(spec_tree):
  for spec in (spec_tree.values() if isinstance(spec_tree, dict) else [spec_tree]):
    assert spec.dtype in (np.float32, np.int32, np.uint8), spec


class TestGymnasium:

  def test_termination_ends_with_discount_zero(self):
    environment = make_environment('gym:CartPole-v1', seed=0)
    timesteps = _roll(environment, [1] * 100)  # Always pushing right topples the pole quickly.
    assert timesteps[-1].last()
    assert len(timesteps) < 100
    assert timesteps[-1].discount == 0.0

  def test_truncation_ends_with_discount_one(self):
    environment = make_environment('gym:CartPole-v1', seed=0, max_episode_steps=5)
    timesteps = _roll(environment, [0, 1, 0, 1, 0, 1, 0])
    assert len(timesteps) == 6
    assert timesteps[-1].last()
    assert timesteps[-1].discount == 1.0

  def test_step_types_first_mid_last_then_restart(self):
    environment = make_environment('gym:CartPole-v1', seed=0, max_episode_steps=3)
    timesteps = _roll(environment, [0, 1, 0])
    assert [t.step_type for t in timesteps] == [
        dm_env.StepType.FIRST, dm_env.StepType.MID, dm_env.StepType.MID, dm_env.StepType.LAST]
    assert environment.step(0).first()  # Stepping after LAST starts a new episode.

  def test_specs_are_32_bit_and_acme_reads_them(self):
    environment = make_environment('gym:CartPole-v1', seed=0)
    spec = specs.make_environment_spec(environment)
    assert spec.observations.shape == (4,) and spec.observations.dtype == np.float32
    assert spec.actions.num_values == 2 and spec.actions.dtype == np.int32
    assert spec.rewards.dtype == np.float32 and spec.discounts.dtype == np.float32
    timestep = environment.step(environment.reset() and 0)
    assert timestep.observation.dtype == np.float32
    assert timestep.reward.dtype == np.float32 and timestep.discount.dtype == np.float32

  def test_discrete_observations_are_one_hot(self):
    environment = make_environment('gym:FrozenLake-v1', seed=0)
    observation = environment.reset().observation
    assert observation.shape == (16,) and observation.dtype == np.float32
    np.testing.assert_array_equal(observation, np.eye(16, dtype=np.float32)[0])

  def test_same_seed_same_observations_other_seed_differs(self):
    actions = [0, 1, 1, 0, 1, 0, 0, 1]

    def observations(seed):
      return np.stack([t.observation for t in _roll(make_environment('gym:CartPole-v1', seed=seed), actions)])

    np.testing.assert_array_equal(observations(3), observations(3))
    assert not np.array_equal(observations(3), observations(4))

  def test_second_episode_is_reproducible_from_seed(self):
    def second_reset(seed):
      environment = make_environment('gym:CartPole-v1', seed=seed)
      _roll(environment, [1] * 100)
      return environment.reset().observation

    np.testing.assert_array_equal(second_reset(5), second_reset(5))

  def test_out_of_range_action_is_rejected(self):
    environment = make_environment('gym:CartPole-v1', seed=0)
    environment.reset()
    with pytest.raises(ValueError, match=r'action 2 is out of range; allowed: 0\.\.1'):
      environment.step(2)


class _DictOfBoxActions(gymnasium.Env):
  """An environment whose actions are a Dict of Box spaces, which the networks cannot take."""

  observation_space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
  action_space = gymnasium.spaces.Dict({'arm': gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32),
                                        'grip': gymnasium.spaces.Box(0.0, 1.0, (1,), np.float32)})


gymnasium.register('DictOfBoxActions-v0', entry_point=_DictOfBoxActions)


class TestContinuousActions:

  @pytest.mark.parametrize('environment_id, size, low, high', [
      ('gym:Pendulum-v1', 1, -2.0, 2.0),
      ('gym:MountainCarContinuous-v0', 1, -1.0, 1.0),
      ('gym:InvertedPendulum-v5', 1, -3.0, 3.0),  # MuJoCo.
  ])
  def test_box_actions_become_a_float32_bounded_array(self, environment_id, size, low, high):
    environment = make_environment(environment_id, seed=0)
    spec = specs.make_environment_spec(environment).actions
    assert isinstance(spec, specs.BoundedArray) and not isinstance(spec, specs.DiscreteArray)
    assert spec.shape == (size,) and spec.dtype == np.float32
    np.testing.assert_array_equal(spec.minimum, [low] * size)
    np.testing.assert_array_equal(spec.maximum, [high] * size)
    environment.reset()
    timestep = environment.step(np.full([size], high, np.float32))
    assert timestep.observation.dtype == np.float32 and timestep.reward.dtype == np.float32

  def test_pendulum_reward_follows_the_torque(self):
    # Pendulum's cost has a 0.001 * torque^2 term: from the same state, torque 2 costs 0.004
    # more than torque 0 in the first step.
    rewards = []
    for torque in (0.0, 2.0):
      environment = make_environment('gym:Pendulum-v1', seed=3)
      environment.reset()
      rewards.append(float(environment.step(np.asarray([torque], np.float32)).reward))
    assert rewards[0] - rewards[1] == pytest.approx(0.004, abs=1e-5)

  @pytest.mark.parametrize('action', [[2.5], [-2.01], [0.0, 0.0], [float('nan')]])
  def test_action_outside_the_spec_is_rejected(self, action):
    environment = make_environment('gym:Pendulum-v1', seed=0)
    environment.reset()
    with pytest.raises(ValueError, match=r'is not allowed; allowed: finite float vectors of shape '
                       r'\(1,\) within \[\[-2.0\], \[2.0\]\]'):
      environment.step(np.asarray(action, np.float32))

  def test_dict_of_box_actions_are_rejected_naming_the_space(self):
    with pytest.raises(ValueError, match=r"action space Dict\('arm': Box.*'grip': Box.* of "
                       r'DictOfBoxActions-v0 is not supported; allowed: Discrete, or a '
                       r'one-dimensional Box'):
      make_environment('gym:DictOfBoxActions-v0')

  def test_unbounded_box_actions_are_rejected(self):
    environment = gymnasium.make('Pendulum-v1')
    environment.action_space = gymnasium.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    with pytest.raises(ValueError, match=r'action space Box\(-inf, inf.*not supported.*finite '
                       'bounds'):
      gym_environment.GymnasiumEnvironment(environment)


class TestAtari:

  def test_preprocessed_frames_past_actions_and_specs(self):
    environment = make_environment('atari:Pong', seed=0)
    spec = specs.make_environment_spec(environment)
    _assert_32_bit(spec.observations)
    frames, past_actions = spec.observations['frames'], spec.observations['past_actions']
    assert frames.shape == (96, 96, 4) and frames.dtype == np.uint8
    assert past_actions.shape == (4,) and past_actions.dtype == np.int32
    assert (past_actions.minimum, past_actions.maximum) == (0, 5)
    assert spec.actions.num_values == 6
    timestep = environment.step(environment.reset() and 0)
    assert timestep.observation['frames'].shape == (96, 96, 4)
    assert timestep.observation['frames'].dtype == np.uint8

  def test_past_actions_are_zeros_after_reset_then_the_last_actions_oldest_first(self):
    environment = make_environment('atari:Pong', seed=0, num_past_actions=3)
    timesteps = _roll(environment, [1, 2, 3, 4, 5])
    assert [t.observation['past_actions'].tolist() for t in timesteps] == [
        [0, 0, 0], [0, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]
    assert environment.reset().observation['past_actions'].tolist() == [0, 0, 0]

  def test_past_actions_restart_when_a_step_after_the_end_resets(self):
    environment = atari.PastActions(make_environment('gym:CartPole-v1', seed=0), 2)
    timesteps = _roll(environment, [1] * 100)  # Always pushing right ends the episode.
    assert timesteps[-1].last() and timesteps[-1].observation['past_actions'].tolist() == [1, 1]
    restarted = environment.step(1)
    assert restarted.first() and restarted.observation['past_actions'].tolist() == [0, 0]

  def test_rgb_full_action_space_stack_and_bare_frames(self):
    environment = make_environment('atari:Pong', seed=0, grayscale=False, frame_stack=2,
                                   num_past_actions=0, full_action_space=True)
    spec = specs.make_environment_spec(environment)
    assert spec.observations.shape == (96, 96, 6) and spec.observations.dtype == np.uint8
    assert spec.actions.num_values == 18

  def test_same_seed_same_frames(self):
    actions = [2, 3] * 10

    def frames(seed):
      return np.stack([t.observation['frames']
                       for t in _roll(make_environment('atari:Breakout', seed=seed), actions)])

    np.testing.assert_array_equal(frames(1), frames(1))


class TestOpenSpiel:

  def test_specs_and_first_observation(self):
    environment = make_environment('openspiel:tic_tac_toe')
    spec = specs.make_environment_spec(environment)
    _assert_32_bit(spec.observations)
    assert spec.observations['board'].shape == (3, 3, 3)
    assert spec.actions.num_values == 9
    observation = environment.reset().observation
    np.testing.assert_array_equal(observation['legal_actions'], np.ones(9, np.float32))
    assert observation['to_play'] == 0
    assert observation['board'].shape == (3, 3, 3)

  @pytest.mark.parametrize('game', ['tic_tac_toe', 'connect_four', 'go(board_size=9)', 'chess'])
  def test_legal_masks_match_pyspiel_in_random_play(self, game):
    environment = make_environment(f'openspiel:{game}')
    rng = np.random.default_rng(0)
    timestep = environment.reset()
    for _ in range(40):
      state = environment.state
      expected = np.zeros(environment.game.num_distinct_actions(), np.float32)
      if not state.is_terminal():
        expected[state.legal_actions()] = 1.0
        assert timestep.observation['to_play'] == state.current_player()
      np.testing.assert_array_equal(timestep.observation['legal_actions'], expected)
      if timestep.last():
        break
      timestep = environment.step(rng.choice(state.legal_actions()))

  @pytest.mark.parametrize('moves, winner', [
      ([0, 3, 1, 4, 2], 0),        # x completes the top row.
      ([0, 3, 1, 4, 8, 5], 1),     # o completes the middle row.
  ])
  def test_winner_gets_plus_one_and_loser_minus_one(self, moves, winner):
    environment = make_environment('openspiel:tic_tac_toe')
    timesteps = _roll(environment, moves)
    assert len(timesteps) == len(moves) + 1
    assert all(t.mid() and t.reward == 0.0 and t.discount == 1.0 for t in timesteps[1:-1])
    last = timesteps[-1]
    assert last.last() and last.discount == 0.0
    assert last.reward == 1.0  # The reward belongs to the player who just moved: the winner.
    expected_returns = np.array([-1.0, -1.0], np.float32)
    expected_returns[winner] = 1.0
    np.testing.assert_array_equal(environment.player_returns(), expected_returns)
    assert last.observation['to_play'] == 1 - winner
    np.testing.assert_array_equal(last.observation['legal_actions'], np.zeros(9, np.float32))

  def test_draw_gives_zero(self):
    environment = make_environment('openspiel:tic_tac_toe')
    timesteps = _roll(environment, [0, 4, 8, 1, 7, 6, 2, 5, 3])
    assert timesteps[-1].last() and timesteps[-1].reward == 0.0
    np.testing.assert_array_equal(environment.player_returns(), [0.0, 0.0])

  def test_illegal_action_raises_and_leaves_game_untouched(self):
    environment = make_environment('openspiel:tic_tac_toe')
    environment.reset()
    environment.step(4)
    before = str(environment.state)
    with pytest.raises(ValueError, match=r'action 4 is illegal for player 1.*allowed: \[0, 1, 2, 3, 5, 6, 7, 8\]'):
      environment.step(4)
    assert str(environment.state) == before
    assert environment.step(0).mid()

  def test_board_is_the_openspiel_tensor_channels_last(self):
    environment = make_environment('openspiel:tic_tac_toe')
    environment.reset()
    board = environment.step(4).observation['board']
    expected = np.asarray(environment.state.observation_tensor(1), np.float32).reshape(3, 3, 3).transpose(1, 2, 0)
    np.testing.assert_array_equal(board, expected)


class TestBadInput:

  @pytest.mark.parametrize('environment_id, exception, message', [
      ('CartPole-v1', ValueError, r"'CartPole-v1' is not of the form prefix:name; allowed prefixes: gym, atari"),
      ('mujoco:Ant', ValueError, r"unknown environment prefix 'mujoco'.*allowed: gym, atari, openspiel, python"),
      ('gym:CartPole-v9', ValueError, r"unknown gymnasium id 'CartPole-v9'.*Discrete or bounded Box action space"),
      ('gym:CarRacing-v3', ValueError, r"gymnasium id 'CarRacing-v3' needs a package that is not installed"),
      ('atari:Pongg', ValueError, r"unknown Atari game 'Pongg'.*Did you mean Pong"),
      ('openspiel:tic_tac_to', ValueError, r"unknown OpenSpiel game 'tic_tac_to'.*Did you mean tic_tac_toe"),
      ('openspiel:kuhn_poker', ValueError, r"'kuhn_poker' has .*information IMPERFECT_INFORMATION.*allowed: two-player"),
      ('openspiel:backgammon', ValueError, r"'backgammon' has chance mode EXPLICIT_STOCHASTIC"),
      ('openspiel:goofspiel', ValueError, r"'goofspiel' has .*dynamics SIMULTANEOUS"),
      ('openspiel:tic_tac_toe', None, None),
  ])
  def test_bad_ids_are_rejected_with_their_name(self, environment_id, exception, message):
    if exception is None:
      assert isinstance(make_environment(environment_id), dm_env.Environment)
      return
    with pytest.raises(exception, match=message):
      make_environment(environment_id)

  def test_game_with_more_players_is_rejected(self):
    with pytest.raises(ValueError, match=r"'pig\(players=3\)' has 3 players"):
      make_environment('openspiel:pig(players=3)')

  @pytest.mark.parametrize('seed', [1.5, '0', True, [0]])
  def test_seed_must_be_an_int(self, seed):
    with pytest.raises(TypeError, match=r'seed .* is not allowed; it must be an int or None'):
      make_environment('gym:CartPole-v1', seed=seed)

  def test_numpy_int_seed_is_accepted(self):
    make_environment('gym:CartPole-v1', seed=np.int64(3)).reset()


class TestUserFactory:
  """`python:package.module:factory` ids name the user's own environment factory."""

  def test_factory_is_called_with_the_seed_and_keyword_arguments(self):
    environment = make_environment('python:tests.agents.user_environments:make_user_environment', seed=4,
                                   num_actions=5)
    assert environment.action_spec().num_values == 5
    # Seed 4 makes action 4 mod 5 the first rewarded one.
    assert environment.reset().first() and environment.step(np.int32(4)).reward == 1.0

  @pytest.mark.parametrize('environment_id, message', [
      ('python:tests.agents.user_environments', r"'python:tests.agents.user_environments' is not "
       r'allowed; allowed: python:package.module:factory'),
      ('python:tests.agents.no_such_module:make', r"cannot import module 'tests.agents.no_such_module'"),
      ('python:tests.agents.user_environments:make_nothing', r"has nothing named 'make_nothing'; "
       'allowed: a callable'),
      ('python:numpy:pi', r"module 'numpy' has a float named 'pi'"),
      ('python:my-envs:make', r'allowed: python:package.module:factory'),
  ])
  def test_bad_ids_name_the_value_and_the_allowed_form(self, environment_id, message):
    with pytest.raises(ValueError, match=message):
      make_environment(environment_id, seed=0)

  def test_factory_returning_something_else_is_rejected(self):
    with pytest.raises(TypeError, match=r'numpy.zeros\(3\) returned a ndarray; allowed: a dm_env'):
      make_environment('python:numpy:zeros', seed=3)
