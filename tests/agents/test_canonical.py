"""The canonical spec: one set of dtypes inside the agent, whatever the environment's are."""

import numpy as np
import pytest
from acme import specs

from agents.muzero import canonical


def _spec(observations, actions=None, rewards=None, discounts=None) -> specs.EnvironmentSpec:
  return specs.EnvironmentSpec(
      observations=observations,
      actions=actions or specs.DiscreteArray(5, dtype=np.int64, name='move'),
      rewards=rewards or specs.Array((), np.float64),
      discounts=discounts or specs.BoundedArray((), np.float64, 0.0, 1.0))


def test_dm_env_defaults_become_int32_actions_and_float32_scalars():
  spec = canonical.canonical_spec(_spec(specs.BoundedArray((4, 3), np.float64, -2.0, 2.0)))
  assert spec.actions == specs.DiscreteArray(5, dtype=np.int32, name='move')
  assert spec.rewards.dtype == np.float32 and spec.rewards.shape == ()
  assert spec.discounts == specs.BoundedArray((), np.float32, 0.0, 1.0)
  assert spec.observations == specs.BoundedArray((4, 3), np.float32, -2.0, 2.0)


def test_integer_observations_are_kept_and_float_leaves_become_float32():
  observations = {'frames': specs.Array((8, 8, 2), np.uint8), 'past_actions': specs.Array((4,), np.int64),
                  'extra': specs.Array((2,), np.float16), 'vector': specs.Array((3,), np.float32)}
  spec = canonical.canonical_spec(_spec(observations, actions=specs.DiscreteArray(3, np.uint8),
                                        rewards=specs.Array((), np.int32)))
  dtypes = {key: leaf.dtype for key, leaf in spec.observations.items()}
  assert dtypes == {'frames': np.uint8, 'past_actions': np.int64, 'extra': np.float32,
                    'vector': np.float32}
  assert spec.actions.dtype == np.int32 and spec.actions.num_values == 3
  assert spec.rewards.dtype == np.float32


def test_cast_observation_follows_the_spec_leaf_by_leaf():
  spec = canonical.canonical_spec(_spec({'frames': specs.Array((2,), np.uint8),
                                         'vector': specs.Array((2,), np.float64)}))
  cast = canonical.cast_observation({'frames': np.array([1, 255], np.uint8),
                                     'vector': np.array([0.5, 1e-3])}, spec.observations)
  assert cast['frames'].dtype == np.uint8 and cast['vector'].dtype == np.float32
  np.testing.assert_allclose(cast['vector'], [0.5, 1e-3], rtol=1e-6)


def test_continuous_actions_map_affinely_between_their_bounds_and_minus_one_one():
  environment_actions = specs.BoundedArray((2,), np.float64, [-2.0, 0.0], [2.0, 10.0],
                                           name='torque')
  spec = canonical.canonical_spec(_spec(specs.Array((3,), np.float32), actions=environment_actions))
  assert spec.actions == specs.BoundedArray((2,), np.float32, -1.0, 1.0, name='torque')
  assert canonical.is_continuous(spec.actions) and not canonical.is_continuous(
      specs.DiscreteArray(3))
  actions = canonical.environment_actions(np.array([[-1.0, 1.0], [0.5, 0.0]]), environment_actions)
  assert actions.dtype == np.float64
  np.testing.assert_allclose(actions, [[-2.0, 10.0], [1.0, 5.0]])
  np.testing.assert_allclose(canonical.canonical_action(actions[1], environment_actions),
                             [0.5, 0.0])
  # Rounding past the bounds is clipped back into them, both ways.
  assert canonical.environment_actions(np.array([[1.0000001, -1.0000001]]),
                                       environment_actions).tolist() == [[2.0, 0.0]]
  np.testing.assert_array_equal(canonical.canonical_action([2.5, -1.0], environment_actions),
                                [1.0, -1.0])


def test_discrete_actions_go_back_in_the_environment_dtype():
  actions = canonical.environment_actions(np.array([1, 4], np.int32), specs.DiscreteArray(5, np.uint8))
  assert actions.dtype == np.uint8 and actions.tolist() == [1, 4]
  assert canonical.canonical_action(np.uint8(4), specs.DiscreteArray(5, np.uint8)) == 4


@pytest.mark.parametrize('spec, message', [
    (_spec(specs.Array((2,), np.float32), actions=specs.BoundedArray((), np.int64, 0, 3)),
     r'action spec .* is not allowed; allowed: dm_env.specs.DiscreteArray of an integer dtype '
     r'\(discrete actions\), or a one-dimensional float BoundedArray with finite bounds'),
    (_spec(specs.Array((2,), np.float32), actions=specs.Array((2,), np.float32)),
     r"action spec Array\(shape=\(2,\).* is not allowed"),
    (_spec(specs.Array((2,), np.float32),
           actions=specs.BoundedArray((2,), np.float32, -np.inf, 1.0)),
     r'action spec BoundedArray.*minimum=-inf.* is not allowed'),
    (_spec(specs.Array((2,), np.float32), actions=specs.BoundedArray((2, 2), np.float32, -1.0, 1.0)),
     r'action spec BoundedArray\(shape=\(2, 2\).* is not allowed'),
    (_spec(specs.Array((2,), np.float32), rewards=specs.Array((2,), np.float32)),
     r'reward spec .*shape=\(2,\).* is not allowed; MuZero needs a single scalar reward'),
    (_spec(specs.Array((2,), np.float32), discounts={'a': specs.Array((), np.float32)}),
     r"discount spec \{'a'.* is not allowed; MuZero needs a single scalar discount"),
])
def test_specs_the_agent_cannot_take_are_rejected_naming_them(spec, message):
  with pytest.raises(ValueError, match=message):
    canonical.canonical_spec(spec)
