"""The MuZero network: representation, dynamics and prediction as one checkpointable Sonnet module.

initial_inference(o) = prediction(representation(o)) and recurrent_inference(s, a) =
prediction(dynamics(s, a)) (paper, Methods). Both take and return batches and contain no Python
control flow on tensor values, so each traces once under `tf.function(jit_compile=True)` and the
search can call `recurrent_inference` inside its compiled `tf.while_loop`.

Discrete actions (`num_actions`) get policy logits over the actions and one-hot (or plane)
action encodings; continuous actions (`action_size` D, canonical bounds [-1, 1]^D) get the
2 D parameters of a squashed Gaussian (`networks.squashed_gaussian`) in `policy_logits` and
take a float [B, D] action in the dynamics (`action_encoding.concat_continuous`).
"""

from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import sonnet as snt
import tensorflow as tf
from acme import specs

from networks import action_encoding
from networks import heads
from networks import observations
from networks import squashed_gaussian
from networks import torsos
from networks import transforms
from networks.base import NetworkOutput
from networks.config import NetworkConfig

# Value and reward output weights start at zero so that a fresh network predicts 0 (uniform logits
# over a symmetric support) instead of arbitrary values up to h^-1(S), which would swamp the
# search's early value estimates and the first losses.
_ZEROS = snt.initializers.Zeros()


class Representation(snt.Module):
  """Batched observation (past actions included, for Atari) -> latent state scaled to [0, 1]."""

  def __init__(self, torso: str, config: NetworkConfig, num_actions: int,
               name: str = 'representation'):
    super().__init__(name=name)
    self._num_actions = num_actions
    if torso == 'mlp':
      self._torso = torsos.ResidualMLP(config.mlp_width, config.mlp_num_blocks,
                                       output_size=config.latent_size, name='torso')
    elif torso == 'resnet':
      self._torso = snt.Sequential([
          torsos.DownsamplingResNet(config.downsample_channels, config.channels,
                                    config.downsample_blocks),
          torsos.ResidualTower(config.channels, config.num_blocks),
      ], name='torso')
    else:
      self._torso = torsos.ConvStage(config.channels, config.num_blocks, name='torso')

  def __call__(self, observation: observations.Observation) -> tf.Tensor:
    features = observations.network_input(observation, self._num_actions)
    return transforms.min_max_scale(self._torso(features))


class Dynamics(snt.Module):
  """(latent, action) -> (next latent scaled to [0, 1], reward logits).

  A discrete action joins the latent as a one-hot vector for 'mlp', as one constant plane a / A
  for 'resnet' (the paper's Atari encoding) and drawn on board-shaped planes for 'board'; a
  continuous one (num_actions None) as its D values scaled to [0, 1] (see
  `networks.action_encoding`). The reward is read from the dynamics features before scaling.
  """

  def __init__(self, torso: str, config: NetworkConfig, num_actions: Optional[int],
               name: str = 'dynamics'):
    super().__init__(name=name)
    self._num_actions = num_actions
    if torso == 'mlp':
      self._encode_action = action_encoding.concat_one_hot
      self._torso = torsos.ResidualMLP(config.mlp_width, config.mlp_num_blocks, name='torso')
      self._latent = snt.Linear(config.latent_size, name='latent')
      self._reward = snt.Linear(config.reward_support_size, w_init=_ZEROS, name='reward')
    else:
      self._encode_action = (action_encoding.concat_scaled_plane if torso == 'resnet'
                             else action_encoding.concat_board_action_planes)
      self._torso = torsos.ConvStage(config.channels, config.num_blocks, name='torso')
      # The tower's output already has the latent's shape.
      self._latent = None
      self._reward = heads.ConvHead(config.reward_support_size, config.head_channels,
                                    config.head_hidden_size, output_w_init=_ZEROS, name='reward')

  def __call__(self, latent: tf.Tensor, action: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    if self._num_actions is None:
      encoded = action_encoding.concat_continuous(latent, action)
    else:
      encoded = self._encode_action(latent, action, self._num_actions)
    features = self._torso(encoded)
    next_latent = self._latent(features) if self._latent is not None else features
    return transforms.min_max_scale(next_latent), self._reward(features)


class Prediction(snt.Module):
  """Latent -> (policy logits or squashed Gaussian parameters, value logits)."""

  def __init__(self, torso: str, config: NetworkConfig, policy_size: int,
               name: str = 'prediction'):
    super().__init__(name=name)
    if torso == 'mlp':
      self._torso = torsos.ResidualMLP(config.mlp_width, config.mlp_num_blocks, name='torso')
      self._policy = snt.Linear(policy_size, name='policy')
      self._value = snt.Linear(config.value_support_size, w_init=_ZEROS, name='value')
    else:
      self._torso = torsos.ResidualTower(config.channels, config.prediction_num_blocks, name='torso')
      self._policy = heads.ConvHead(policy_size, config.head_channels, name='policy')
      self._value = heads.ConvHead(config.value_support_size, config.head_channels,
                                   config.head_hidden_size, output_w_init=_ZEROS, name='value')

  def __call__(self, latent: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    features = self._torso(latent)
    return self._policy(features), self._value(features)


class MuZeroNetwork(snt.Module):
  """The three MuZero functions behind `initial_inference` and `recurrent_inference`.

  Build it with `make_network`, which also creates the variables. The submodules are the
  attributes `representation`, `dynamics` and `prediction`, so checkpoints written with
  `tf.train.Checkpoint(network=...)` restore into any network built from the same specs and
  config.

  Attributes:
    num_actions: size of the discrete action space; None for continuous actions.
    action_size: D, the dimensions of continuous actions in [-1, 1]^D; None for discrete ones.
    torso: the torso family in use, 'mlp', 'resnet' or 'board' ('auto' resolved).
    latent_shape: per-sample shape of `NetworkOutput.latent`.
    config: the NetworkConfig the network was built from.
    observation_spec: the spec of one (unbatched) observation.
  """

  def __init__(self, observation_spec: observations.ObservationSpec, num_actions: Optional[int],
               config: NetworkConfig, name: str = 'muzero_network',
               action_size: Optional[int] = None):
    """Builds the submodules; variables exist only after `create_variables` (or a first call).

    Give `num_actions` for discrete actions, or None and `action_size` for continuous ones.
    """
    super().__init__(name=name)
    torso = observations.infer_torso(observation_spec) if config.torso == 'auto' else config.torso
    input_shape = observations.network_input_shape(observation_spec)
    if torso in ('resnet', 'board') and len(input_shape) != 3:
      raise ValueError(f'torso {torso!r} (NetworkConfig.torso={config.torso!r}) needs [H, W, C] '
                       f'network inputs, but observation spec {observation_spec} gives {input_shape}; '
                       "use torso 'mlp' or 'auto'.")
    if (num_actions is None) == (action_size is None):
      raise ValueError(f'num_actions={num_actions!r} and action_size={action_size!r}: give '
                       'exactly one (discrete or continuous actions).')
    for field, size in (('num_actions', num_actions), ('action_size', action_size)):
      if size is not None and (not isinstance(size, int) or size < 1):
        raise ValueError(f'{field}={size!r} must be an int >= 1.')
    self.num_actions = num_actions
    self.action_size = action_size
    self.torso = torso
    self.config = config
    self.observation_spec = observation_spec
    if torso == 'mlp':
      self.latent_shape = (config.latent_size,)
    elif torso == 'resnet':
      height, width = input_shape[:2]
      self.latent_shape = (torsos.downsampled_size(height), torsos.downsampled_size(width),
                           config.channels)
    else:
      self.latent_shape = input_shape[:2] + (config.channels,)
    self.representation = Representation(torso, config, num_actions)
    self.dynamics = Dynamics(torso, config, num_actions)
    self.prediction = Prediction(
        torso, config, num_actions if action_size is None
        else squashed_gaussian.num_parameters(action_size))

  def initial_inference(self, observation: observations.Observation) -> NetworkOutput:
    """Predicts from a batch of observations; the reward fields are zeros.

    Args:
      observation: a batch matching `observation_spec` with a leading batch dimension B (a dict
        of batches for board games and for Atari with past actions), or its `network_input`.

    Returns:
      NetworkOutput with zero `reward` and `reward_logits`.
    """
    latent = self.representation(observation)
    policy_logits, value_logits = self.prediction(latent)
    value = transforms.support_to_scalar(value_logits)
    return NetworkOutput(
        latent=latent,
        reward=tf.zeros_like(value),
        policy_logits=policy_logits,
        value=value,
        reward_logits=tf.zeros([tf.shape(value)[0], self.config.reward_support_size]),
        value_logits=value_logits)

  def recurrent_inference(self, latent: tf.Tensor, action: tf.Tensor) -> NetworkOutput:
    """Predicts one step ahead of `latent` [B, *latent_shape] after `action`: int32 [B], or
    float32 [B, D] in [-1, 1] for continuous actions."""
    next_latent, reward_logits = self.dynamics(latent, action)
    policy_logits, value_logits = self.prediction(next_latent)
    return NetworkOutput(
        latent=next_latent,
        reward=transforms.support_to_scalar(reward_logits),
        policy_logits=policy_logits,
        value=transforms.support_to_scalar(value_logits),
        reward_logits=reward_logits,
        value_logits=value_logits)

  def create_variables(self) -> None:
    """Creates every variable by running both functions once on a batch of zeros.

    Sonnet creates variables on first call; doing it up front makes `variables` complete for
    publishing to actors and gives `tf.train.Checkpoint.restore` something to restore into.
    """
    output = self.initial_inference(observations.dummy_observation(self.observation_spec))
    self.recurrent_inference(output.latent, self.zero_actions(1))

  def zero_actions(self, batch_size) -> tf.Tensor:
    """A batch of placeholder actions: action 0, or the centre of the continuous bounds."""
    if self.action_size is None:
      return tf.zeros([batch_size], tf.int32)
    return tf.zeros([batch_size, self.action_size], tf.float32)

  def variable_groups(self) -> Dict[str, List[tf.Variable]]:
    """Named lists of variables, for a learner's `get_variables(names)`.

    'network' is every variable; 'representation', 'dynamics' and 'prediction' are those of each
    function. Lists are in Sonnet's deterministic order, so two networks built alike line up.
    """
    return {
        'network': list(self.variables),
        'representation': list(self.representation.variables),
        'dynamics': list(self.dynamics.variables),
        'prediction': list(self.prediction.variables),
    }


def make_network(spec: Union[specs.EnvironmentSpec, Tuple[observations.ObservationSpec, int]],
                 config: Optional[NetworkConfig] = None) -> MuZeroNetwork:
  """Builds a MuZeroNetwork with all its variables.

  Args:
    spec: an acme EnvironmentSpec with a discrete action spec or a [D] float one (continuous
      actions, in the canonical bounds [-1, 1]), or (observation_spec, num_actions).
    config: network sizes; NetworkConfig() (the paper's Atari sizes) when None.

  Returns:
    The network, variables created.
  """
  action_size = None
  if isinstance(spec, specs.EnvironmentSpec):
    actions = spec.actions
    observation_spec, num_actions = spec.observations, None
    if isinstance(actions, specs.DiscreteArray):
      num_actions = int(actions.num_values)
    elif np.issubdtype(actions.dtype, np.floating) and len(actions.shape) == 1:
      action_size = int(actions.shape[0])
    else:
      raise ValueError(f'action spec {actions} is not allowed; MuZero networks need a '
                       'DiscreteArray or a [D] float array (continuous actions).')
  else:
    observation_spec, num_actions = spec
  network = MuZeroNetwork(observation_spec, num_actions, config or NetworkConfig(),
                          action_size=action_size)
  network.create_variables()
  return network
