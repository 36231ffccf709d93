"""The environment spec the agent uses inside, whatever dtypes and bounds the user's environment has.

A `dm_env.Environment` may have actions of any integer dtype (dm_env's default is
int64), float64 rewards, discounts and observations (dm_env's defaults for rewards and
discounts), or float32 everywhere like ours. The agent normalises them once, at its boundary
(`MuZeroBuilder`), to one canonical spec, so that the replay signature, the networks and the
learner's graph see a single set of dtypes:
  - discrete actions: an int32 `DiscreteArray` with the same number of values;
  - continuous actions (a [D] float `BoundedArray` with finite bounds): a float32
    `BoundedArray` of the same shape within [-1, 1], the range of the squashed policy
    (`networks.squashed_gaussian`); the networks never see the environment's units;
  - rewards and discounts: float32 scalars (discount bounds kept);
  - observations, leaf by leaf: floating dtypes become float32, others (uint8 frames, integer
    past actions, booleans) are kept, since their dtype carries meaning (`network_input` scales
    uint8 images).
The replay writer casts observations to this spec (`cast_observation`) and the actor hands
actions back in the environment's own dtype and bounds (`environment_actions`; continuous
actions map affinely from [-1, 1] to [minimum, maximum]), so `env.step` gets what its spec
says; the action it stores is mapped back (`canonical_action`).
"""

from typing import Any, Tuple

import numpy as np
import tree
from acme import specs


def canonical_spec(environment_spec: specs.EnvironmentSpec) -> specs.EnvironmentSpec:
  """The canonical spec (see the module docstring) of a user's environment spec.

  Raises:
    ValueError: the actions are neither a `DiscreteArray` of an integer dtype nor a [D] float
      `BoundedArray` with finite bounds, or the reward or discount spec is not a single scalar
      array.
  """
  return specs.EnvironmentSpec(
      observations=tree.map_structure(_canonical_observation, environment_spec.observations),
      actions=_canonical_actions(environment_spec.actions),
      rewards=_canonical_scalar('reward', environment_spec.rewards),
      discounts=_canonical_scalar('discount', environment_spec.discounts))


def is_continuous(action_spec: specs.Array) -> bool:
  """Whether `action_spec` (a user's or a canonical one) is continuous rather than discrete."""
  return not isinstance(action_spec, specs.DiscreteArray)


def _canonical_actions(actions: specs.Array) -> specs.Array:
  allowed = ('allowed: dm_env.specs.DiscreteArray of an integer dtype (discrete actions), or a '
             'one-dimensional float BoundedArray with finite bounds (continuous actions).')
  if isinstance(actions, specs.DiscreteArray):
    if not np.issubdtype(actions.dtype, np.integer):
      raise ValueError(f'action spec {actions} has dtype {actions.dtype}; {allowed}')
    return specs.DiscreteArray(int(actions.num_values), dtype=np.int32, name=actions.name)
  if (not isinstance(actions, specs.BoundedArray) or len(actions.shape) != 1
      or not np.issubdtype(actions.dtype, np.floating)
      or not np.all(np.isfinite(actions.minimum)) or not np.all(np.isfinite(actions.maximum))
      or not np.all(np.broadcast_to(actions.minimum < actions.maximum, actions.shape))):
    raise ValueError(f'action spec {actions} is not allowed; {allowed}')
  return specs.BoundedArray(actions.shape, np.float32, -1.0, 1.0, name=actions.name)


def _bounds(action_spec: specs.BoundedArray) -> Tuple[np.ndarray, np.ndarray]:
  minimum = np.broadcast_to(np.asarray(action_spec.minimum, np.float64), action_spec.shape)
  maximum = np.broadcast_to(np.asarray(action_spec.maximum, np.float64), action_spec.shape)
  return minimum, maximum


def environment_actions(actions: np.ndarray, action_spec: specs.Array) -> np.ndarray:
  """Canonical actions [B] or [B, D] -> the environment's (`action_spec`): its dtype, and for
  continuous actions its bounds (clipped there against rounding)."""
  if not is_continuous(action_spec):
    return np.asarray(actions).astype(action_spec.dtype)
  minimum, maximum = _bounds(action_spec)
  scaled = minimum + (np.asarray(actions, np.float64) + 1.0) / 2.0 * (maximum - minimum)
  return np.clip(scaled, minimum, maximum).astype(action_spec.dtype)


def canonical_action(action: Any, action_spec: specs.Array) -> np.ndarray:
  """One environment action -> the canonical one (int32, or float32 in [-1, 1])."""
  if not is_continuous(action_spec):
    return np.int32(action)
  minimum, maximum = _bounds(action_spec)
  scaled = 2.0 * (np.asarray(action, np.float64) - minimum) / (maximum - minimum) - 1.0
  return np.clip(scaled, -1.0, 1.0).astype(np.float32)


def cast_observation(observation: Any, observation_spec: Any) -> Any:
  """`observation` (a nest of arrays) with the dtypes of `observation_spec` (the same nest)."""
  return tree.map_structure(lambda value, spec: np.asarray(value, spec.dtype), observation,
                            observation_spec)


def _canonical_observation(spec: specs.Array) -> specs.Array:
  if np.issubdtype(spec.dtype, np.floating) and spec.dtype != np.float32:
    return spec.replace(dtype=np.float32)
  return spec


def _canonical_scalar(kind: str, spec: Any) -> specs.Array:
  """A float32 scalar spec for the reward or discount spec `spec`, bounds kept when it has any."""
  if not isinstance(spec, specs.Array) or spec.shape != ():
    raise ValueError(f'{kind} spec {spec} is not allowed; MuZero needs a single scalar {kind}: '
                     f'a dm_env.specs.Array or BoundedArray of shape () (any float or int dtype).')
  return spec.replace(dtype=np.float32)
