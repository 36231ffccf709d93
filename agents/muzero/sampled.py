"""Sampled MuZero (Hubert et al. 2021): the batched search over K sampled actions per node.

The search (`search/`) works over a fixed number of discrete children per node. For actions it
cannot enumerate (continuous ones; huge discrete spaces), `SampledNetwork` presents the network
to it as one with K actions, the K "slots" of a node: every node it expands samples K actions
from a proposal beta and keeps them with the latent, and the prior it gives the search over the
slots is the paper's corrected prior (beta_hat / beta) * pi (`corrected_prior_logits`).
`recurrent_inference(latent, slot)` looks the slot's action up and runs the dynamics on it. So
the search (pUCT, and any selection rule over discrete children, Gumbel's included) runs
unchanged over slots; its visit distribution over the slots is the improved policy over the
sampled actions (the policy target the learner scores with -sum_k pi_hat(k) log pi(a_k)), and
the actor plays the chosen slot's action.

Why slots inside the latent rather than a search of its own: the compiled search, its tree
layout and its selection rules stay one implementation for every action space, and what
Sampled MuZero adds (sampling, the prior correction) sits where the network is called. The
latent the search carries is [the network's latent (flattened), the K x D sampled actions, the
node's key]; the key (`agents.muzero.keyed_random`, below 2^24 so float32 holds it exactly)
makes each node's draws depend on its own key alone, and a child's key is a hash of its
parent's and of the slot, so a search is deterministic given the root keys.

The root's actions are sampled outside the search (`SampledSearch`: one representation call)
and handed to it with the observation: the actor then knows them without reading the tree, and
the replay stores exactly the actions the search weighed (a reanalysis samples new ones from the
current network and stores those with its improved policy, `agents.muzero.reanalyze`).
"""

import math
from typing import Any, NamedTuple, Optional, Protocol, Tuple

import numpy as np
import tensorflow as tf

import search
from agents.muzero import keyed_random
from networks import squashed_gaussian

# Keys of the observation nest a `SampledNetwork` takes at the root.
OBSERVATION = 'observation'
SAMPLED_ACTIONS = 'sampled_actions'
KEY = 'key'


def corrected_prior_logits(log_prior: tf.Tensor, log_proposal: tf.Tensor) -> tf.Tensor:
  """Logits over K sampled slots of the corrected prior (beta_hat / beta) * pi.

  Slot k holds action a_k drawn from beta; beta_hat is the empirical distribution of the draws,
  so an action drawn c times has beta_hat = c / K. Its c slots share its corrected prior equally,
  (1 / K) pi(a) / beta(a) each: the slots' prior summed over each distinct action is the paper's
  (beta_hat / beta) * pi, normalised, and no draw needs counting. With beta = pi every slot gets
  1 / K: the samples already follow the policy.

  Args:
    log_prior: [B, K] log pi(a_k) (log densities for continuous actions).
    log_proposal: [B, K] log beta(a_k).

  Returns:
    [B, K] logits (softmax gives the prior over slots).
  """
  return log_prior - log_proposal


class Proposal(Protocol):
  """How actions of one kind are sampled and scored from the policy head's output.

  Attributes:
    action_size: D, the numbers per action.
    is_policy_below_root: beta = pi below the root, so the corrected prior there is uniform
      over the slots and needs no scoring of the samples.
  """

  action_size: int
  is_policy_below_root: bool

  def sample(self, policy_output: tf.Tensor, keys: tf.Tensor, num_samples: int,
             at_root: bool) -> tf.Tensor:
    """[B, P] policy output, [B] keys -> [B, K, action_size] float32 actions drawn from beta."""

  def log_prior(self, policy_output: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
    """[B, K] log pi of `actions` [B, K, action_size]."""

  def log_proposal(self, policy_output: tf.Tensor, actions: tf.Tensor,
                   at_root: bool) -> tf.Tensor:
    """[B, K] log beta of `actions`."""

  def network_action(self, action: tf.Tensor) -> tf.Tensor:
    """One action per row [B, action_size] as the network's dynamics takes it."""


class SquashedGaussianProposal:
  """Continuous actions in [-1, 1]^D under the squashed Gaussian policy
  (`networks.squashed_gaussian`).

  beta = pi below the root (every slot's prior is then 1 / K); at the root beta is pi with its
  standard deviation (in atanh space) multiplied by `root_std_scale`, a broader proposal for
  exploration whose samples the prior correction weighs back towards pi.
  """

  is_policy_below_root = True

  def __init__(self, action_size: int, root_std_scale: float = 1.0):
    if not (isinstance(root_std_scale, (int, float)) and math.isfinite(root_std_scale)
            and root_std_scale > 0):
      raise ValueError(f'root_std_scale={root_std_scale!r} is not allowed; allowed: a finite '
                       'number > 0.')
    self.action_size = action_size
    self._root_std_scale = float(root_std_scale)

  def _std_scale(self, at_root: bool) -> float:
    return self._root_std_scale if at_root else 1.0

  def sample(self, policy_output, keys, num_samples, at_root):
    normals = keyed_random.normals(keys, [num_samples, self.action_size])
    return squashed_gaussian.sample(policy_output, normals, self._std_scale(at_root))

  def log_prior(self, policy_output, actions):
    return squashed_gaussian.log_prob(policy_output, actions)

  def log_proposal(self, policy_output, actions, at_root):
    return squashed_gaussian.log_prob(policy_output, actions, self._std_scale(at_root))

  def network_action(self, action):
    return action


class CategoricalProposal:
  """K distinct actions of a discrete space, drawn without replacement and sorted.

  Draws are Gumbel-top-k on the proposal's logits (the sampling without replacement of Gumbel
  MuZero, Danihelka et al. 2022), so K = num_actions takes every action; sorting puts action a
  in slot a then, and with a uniform beta (`uniform_proposal`) the corrected prior is pi itself:
  the sampled search is the full search. Actions travel as float32 [.., 1] like continuous ones.
  """

  action_size = 1

  def __init__(self, num_actions: int, uniform_proposal: bool = False):
    self._num_actions = num_actions
    self._uniform_proposal = uniform_proposal
    self.is_policy_below_root = not uniform_proposal

  def _log_proposal_all(self, logits: tf.Tensor) -> tf.Tensor:
    if self._uniform_proposal:
      return tf.fill(tf.shape(logits), -math.log(self._num_actions))
    return tf.nn.log_softmax(logits)

  def sample(self, policy_output, keys, num_samples, at_root):
    del at_root  # The same proposal everywhere.
    if num_samples > self._num_actions:
      raise ValueError(f'num_samples={num_samples} distinct actions cannot be drawn from '
                       f'{self._num_actions}; allowed: num_samples <= num_actions.')
    gumbels = -tf.math.log(-tf.math.log(keyed_random.uniforms(keys, self._num_actions)))
    top = tf.math.top_k(self._log_proposal_all(policy_output) + gumbels, num_samples).indices
    return tf.cast(tf.sort(top, axis=-1), tf.float32)[..., None]

  def _gather(self, log_probabilities, actions):
    return tf.gather(log_probabilities, tf.cast(actions[..., 0], tf.int32), batch_dims=1)

  def log_prior(self, policy_output, actions):
    return self._gather(tf.nn.log_softmax(policy_output), actions)

  def log_proposal(self, policy_output, actions, at_root):
    del at_root
    return self._gather(self._log_proposal_all(policy_output), actions)

  def network_action(self, action):
    return tf.cast(action[:, 0], tf.int32)


class SampledOutput(NamedTuple):
  """What the search reads from an inference (`search.network.InferenceOutput`).

  Attributes:
    latent: [B, L + K D + 1] the network's latent, the node's K sampled actions and its key.
    reward: [B].
    policy_logits: [B, K] corrected prior logits over the slots.
    value: [B].
  """
  latent: tf.Tensor
  reward: tf.Tensor
  policy_logits: tf.Tensor
  value: tf.Tensor


class SampledNetwork:
  """A network seen by the search as one with K = `num_samples` actions (see the module
  docstring).

  `initial_inference` takes the nest {OBSERVATION: network input [B, ...], SAMPLED_ACTIONS:
  [B, K, D] the root's actions, KEY: [B] int32 keys < 2^24}.
  """

  def __init__(self, network, proposal: Proposal, num_samples: int):
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
      raise ValueError(f'num_samples={num_samples!r} is not allowed; allowed: an int >= 1.')
    self._network = network
    self._proposal = proposal
    self.num_actions = num_samples
    self._latent_shape = tuple(network.latent_shape)
    self._latent_size = math.prod(self._latent_shape)

  @property
  def trainable_variables(self):
    """The wrapped network's, by which the search sizes it (`search.config.root_in_graph`)."""
    return self._network.trainable_variables

  def _pack(self, latent: tf.Tensor, actions: tf.Tensor, keys: tf.Tensor) -> tf.Tensor:
    batch_size = tf.shape(latent)[0]
    return tf.concat([tf.reshape(latent, [batch_size, self._latent_size]),
                      tf.reshape(actions, [batch_size, -1]),
                      tf.cast(keys, tf.float32)[:, None]], axis=1)

  def unpack(self, packed: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """[B, L + K D + 1] -> (latent [B, *latent_shape], actions [B, K, D], int32 keys [B])."""
    size, action_size = self._latent_size, self._proposal.action_size
    latent = tf.reshape(packed[:, :size], [-1, *self._latent_shape])
    actions = tf.reshape(packed[:, size:-1], [-1, self.num_actions, action_size])
    return latent, actions, tf.cast(packed[:, -1], tf.int32)

  def _output(self, output, actions: tf.Tensor, keys: tf.Tensor, at_root: bool) -> SampledOutput:
    proposal = self._proposal
    if not at_root and proposal.is_policy_below_root:
      # log pi - log beta is 0 for every slot: spare K scorings per simulation.
      logits = tf.zeros(tf.shape(actions)[:2])
    else:
      logits = corrected_prior_logits(proposal.log_prior(output.policy_logits, actions),
                                      proposal.log_proposal(output.policy_logits, actions,
                                                            at_root))
    return SampledOutput(latent=self._pack(output.latent, actions, keys), reward=output.reward,
                         policy_logits=logits, value=output.value)

  def initial_inference(self, inputs: Any) -> SampledOutput:
    output = self._network.initial_inference(inputs[OBSERVATION])
    return self._output(output, tf.convert_to_tensor(inputs[SAMPLED_ACTIONS], tf.float32),
                        inputs[KEY], at_root=True)

  def recurrent_inference(self, latent: tf.Tensor, action: tf.Tensor) -> SampledOutput:
    """The child reached through slot `action` [B] int32: dynamics on the slot's action, then K
    fresh samples for the child from its own key."""
    latent, actions, keys = self.unpack(latent)
    chosen = tf.gather(actions, action, batch_dims=1)
    output = self._network.recurrent_inference(latent, self._proposal.network_action(chosen))
    keys = keyed_random.child_keys(keys, action)
    actions = self._proposal.sample(output.policy_logits, keys, self.num_actions, at_root=False)
    return self._output(output, actions, keys, at_root=False)


def sample_root_actions(network, proposal: Proposal, observations: Any, keys: tf.Tensor,
                        num_samples: int) -> tf.Tensor:
  """[B, K, D] actions drawn from the root proposal of each observation (network input)."""
  policy_output = network.initial_inference(observations).policy_logits
  return proposal.sample(policy_output, keys, num_samples, at_root=True)


class SampledSearch:
  """The compiled Sampled MuZero search of one network: root sampling, then `search.SearchFn`
  over the slots."""

  def __init__(self, network, proposal: Proposal, num_samples: int,
               config: search.SearchConfig):
    self._search = search.SearchFn(SampledNetwork(network, proposal, num_samples), config)
    self._sample_root_actions = tf.function(
        lambda observations, keys: sample_root_actions(network, proposal, observations, keys,
                                                       num_samples),
        autograph=False, jit_compile=True)

  def __call__(self, observations: Any, keys: np.ndarray, seed: search.policies.Seed,
               temperature: Optional[search.policies.Temperature] = None
               ) -> Tuple[search.SearchOutput, tf.Tensor]:
    """One search per row over K sampled root actions.

    Args:
      observations: [B, ...] network input (or a nest of such batches).
      keys: [B] integer keys in [0, 2^24) of the roots' random draws.
      seed: seed of the search's own random numbers (root noise, action sampling).
      temperature: see `search.SearchFn`.

    Returns:
      (SearchOutput over the K slots, [B, K, D] the root's actions).
    """
    keys = np.asarray(keys)
    if (keys.ndim != 1 or not np.issubdtype(keys.dtype, np.integer) or keys.min() < 0
        or keys.max() >= 2 ** keyed_random.KEY_BITS):
      raise ValueError(f'keys {keys!r} are not allowed; allowed: [B] integers in '
                       f'[0, 2^{keyed_random.KEY_BITS}).')
    keys = tf.constant(keys, tf.int32)
    sampled_actions = self._sample_root_actions(observations, keys)
    inputs = {OBSERVATION: observations, SAMPLED_ACTIONS: sampled_actions, KEY: keys}
    return self._search(inputs, None, seed, temperature), sampled_actions
