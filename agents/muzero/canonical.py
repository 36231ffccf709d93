"""The environment spec the agent uses inside, whatever dtypes the user's environment has.

A discrete `dm_env.Environment` may have actions of any integer dtype (dm_env's default is
int64), float64 rewards, discounts and observations (dm_env's defaults for rewards and
discounts), or float32 everywhere like ours. The agent normalises them once, at its boundary
(`MuZeroBuilder`), to one canonical spec, so that the replay signature, the networks and the
learner's graph see a single set of dtypes:
  - actions: an int32 `DiscreteArray` with the same number of values;
  - rewards and discounts: float32 scalars (discount bounds kept);
  - observations, leaf by leaf: floating dtypes become float32, others (uint8 frames, integer
    past actions, booleans) are kept, since their dtype carries meaning (`network_input` scales
    uint8 images).
The replay writer casts observations to this spec (`cast_observation`) and the actor hands
actions back in the environment's own dtype, so `env.step` gets what its spec says.
"""

from typing import Any

import numpy as np
import tree
from acme import specs


def canonical_spec(environment_spec: specs.EnvironmentSpec) -> specs.EnvironmentSpec:
  """The canonical spec (see the module docstring) of a user's environment spec.

  Raises:
    ValueError: the actions are not a `DiscreteArray` of an integer dtype, or the reward or
      discount spec is not a single scalar array.
  """
  actions = environment_spec.actions
  if not isinstance(actions, specs.DiscreteArray):
    raise ValueError(f'action spec {actions} is not a DiscreteArray; MuZero needs discrete '
                     'actions (dm_env.specs.DiscreteArray of an integer dtype).')
  if not np.issubdtype(actions.dtype, np.integer):
    raise ValueError(f'action spec {actions} has dtype {actions.dtype}; allowed: an integer '
                     'dtype (int32, int64, uint8, ...).')
  return specs.EnvironmentSpec(
      observations=tree.map_structure(_canonical_observation, environment_spec.observations),
      actions=specs.DiscreteArray(int(actions.num_values), dtype=np.int32, name=actions.name),
      rewards=_canonical_scalar('reward', environment_spec.rewards),
      discounts=_canonical_scalar('discount', environment_spec.discounts))


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
