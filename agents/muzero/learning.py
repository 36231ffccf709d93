"""The MuZero learner: samples sequences from Reverb, unrolls the model, updates weights and priorities.

One `step` = one batch: value, reward and policy targets from the replayed items
(`agents.muzero.replay`), a K-step unroll of the network and the paper's loss
(`agents.muzero.losses`) weighted by importance weights, one optimizer update, and new
priorities |v_0 - z_0| (the network's value at the first position against its n-step target)
written back to the replay table.

Fresh targets: with `config.target_update_period`, a target network (a copy of the network
refreshed every T steps) recomputes the bootstrap values v_{t+k+n} from the stored observations,
instead of the root values an old network wrote when the data was collected (MuZero Reanalyze's
value targets, EfficientZero's target model). With `config.consistency_loss_weight` > 0,
EfficientZero's consistency loss joins the loss (`networks.consistency`). With
`config.reanalyze_fraction` > 0, `config.batch_split[1]` items of every batch come from the
reanalyze table (`agents.muzero.reanalyze`), weighted and re-prioritised through their source
items in the replay. With `config.board_symmetries`, every item is trained on through a random
symmetry of the board (`agents.muzero.symmetries`).

Non-finite numbers: an update whose loss, gradient norm or new priorities hold NaN or inf is not
applied (the check runs in the graph, before the optimizer), and `step` raises `NonFiniteError`
naming the step, the non-finite figures and the batch columns that hold non-finite values;
weights, optimizer state, step counter and the replay's priorities stay as the last good step
left them.
`save_checkpoint` refuses weights that are not finite: a resume restores the newest readable
checkpoint (the manager keeps two), so a poisoned one would be resumed from, and a second would
delete the last good one.

The compute runs under `tf.device(device)`, the first GPU when TensorFlow sees one and the CPU
otherwise; nothing else depends on the device.
"""

import time
from typing import Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import reverb
import sonnet as snt
import tensorflow as tf
import tree
from absl import logging
from acme import core
from acme.adders import reverb as adders
from acme.utils import counting
from acme.utils import loggers

from agents.muzero import config as config_lib
from agents.muzero import losses
from agents.muzero import reanalyze
from agents.muzero import replay
from agents.muzero import symmetries as symmetries_lib
from networks import consistency

LEARNER_STEPS = 'learner_steps'
# The variable group of the largest priority of the latest batch, the priority of new items.
MAX_PRIORITY = 'max_priority'


class NonFiniteError(FloatingPointError):
  """A learner update met a non-finite loss or gradient, or weights hold non-finite values."""


def _merge_batch_and_rows(x: tf.Tensor) -> tf.Tensor:
  """[B, R, ...] -> [B R, ...], so that one network call serves every row of every item."""
  return tf.reshape(x, tf.concat([[-1], tf.shape(x)[2:]], axis=0))


def default_device() -> str:
  """'/GPU:0' when TensorFlow sees a GPU, else '/CPU:0'."""
  return '/GPU:0' if tf.config.list_logical_devices('GPU') else '/CPU:0'


def make_optimizer(config: config_lib.MuZeroConfig, learning_rate: tf.Variable) -> snt.Optimizer:
  """Momentum SGD (the paper's optimizer) or Adam, reading the rate from `learning_rate`."""
  if config.optimizer == 'sgd':
    return snt.optimizers.Momentum(learning_rate, config.momentum)
  if config.optimizer == 'adam':
    return snt.optimizers.Adam(learning_rate)
  raise ValueError(f'MuZeroConfig.optimizer={config.optimizer!r} is not allowed; allowed: '
                   f'{config_lib.OPTIMIZERS}.')


class MuZeroLearner(core.Learner):
  """Acme learner and variable source for MuZero.

  Variable groups for `get_variables`: the network's (`network.variable_groups()`: 'network',
  'representation', 'dynamics', 'prediction'), 'learner_steps' (the step counter, so that
  actors know the age of their weights and follow the temperature schedule) and 'max_priority'
  (the largest priority of the latest batch, which actors give new items).

  Attributes:
    last_priorities: (keys [B], priorities [B]) written by the latest step.
    last_staleness: the latest step's mean age in learner steps of the weights that made its
      policy targets: 'policy_target_staleness' (the replay's items) and, with reanalysis,
      'reanalyzed_target_staleness'.
  """

  def __init__(self,
               network,
               dataset: Union[tf.data.Dataset, Iterator[reverb.ReplaySample]],
               config: config_lib.MuZeroConfig,
               replay_client: Optional[reverb.Client] = None,
               table: str = adders.DEFAULT_PRIORITY_TABLE,
               counter: Optional[counting.Counter] = None,
               logger: Optional[loggers.Logger] = None,
               checkpoint_directory: Optional[str] = None,
               device: Optional[str] = None,
               target_network=None,
               reanalyzed_dataset: Union[tf.data.Dataset, Iterator[reverb.ReplaySample],
                                         None] = None,
               symmetries: Optional[symmetries_lib.BoardSymmetries] = None,
               *,
               two_player: bool):
    """Makes the learner.

    Args:
      network: a `networks.MuZeroNetwork` with its variables created.
      dataset: batches of `reverb.ReplaySample` (Acme's `make_reverb_dataset`), or an iterator of
        them. The iterator is made on the first `step`.
      config: the agent configuration (validated here).
      replay_client: client of the replay server, for priority updates; None skips them.
      table: the replay table's name.
      counter: parent counter; the learner counts 'learner_steps' in it.
      logger: where metrics go; Acme's default logger when None.
      checkpoint_directory: where `save_checkpoint` / `restore_checkpoint` write and read; None
        disables checkpointing.
      device: TensorFlow device of the compute; `default_device()` when None.
      target_network: a second network built alike, needed when `config.target_update_period`
        is set.
      reanalyzed_dataset: batches of reanalysed items (`agents.muzero.reanalyze`), the
        `config.batch_split[1]` items of every batch; needed exactly when
        `config.reanalyze_fraction` > 0.
      symmetries: the board's symmetries (`agents.muzero.symmetries.from_spec` of
        `config.board_symmetries`); each item of a batch is trained on through one drawn at
        random. None trains on the items as played.
      two_player: the environment is a two-player game (`environments.specs.is_two_player` of
        its spec; the builder passes it): value targets flip sign every ply.
    """
    self._config = config.validate()
    self._two_player = two_player
    self._network = network
    self._dataset = dataset
    self._iterator = None
    if (config.target_update_period is None) != (target_network is None):
      raise ValueError(f'MuZeroConfig.target_update_period={config.target_update_period} needs '
                       'a target_network exactly when it is set.')
    self._target_network = target_network
    if config.reanalyze != (reanalyzed_dataset is not None):
      raise ValueError(f'MuZeroConfig.reanalyze_fraction={config.reanalyze_fraction} needs a '
                       'reanalyzed_dataset exactly when it is > 0.')
    self._reanalyzed_dataset = reanalyzed_dataset
    self._reanalyzed_iterator = None
    if (config.board_symmetries == 'none') != (symmetries is None):
      raise ValueError(f'MuZeroConfig.board_symmetries={config.board_symmetries!r} needs '
                       'symmetries exactly when it is not \'none\'.')
    self._symmetries = symmetries
    self._replay_client = replay_client
    self._table = table
    self._counter = counting.Counter(counter, 'learner')
    self._logger = logger or loggers.make_default_logger('learner', steps_key=LEARNER_STEPS)
    self._device = device or default_device()
    with tf.device(self._device):
      self._learner_steps = tf.Variable(0, dtype=tf.int64, trainable=False, name='learner_steps')
      self._learning_rate = tf.Variable(config.learning_rate, dtype=tf.float32, trainable=False,
                                        name='learning_rate')
      self._max_priority = tf.Variable(1.0, dtype=tf.float32, trainable=False,
                                       name='max_priority')
      self._optimizer = make_optimizer(config, self._learning_rate)
      self._consistency_heads = None
      self._variables = list(network.trainable_variables)
      if config.consistency_loss_weight > 0:
        self._consistency_heads = consistency.make_heads(
            config.consistency_space, config.consistency_projection_size, network.latent_shape)
      if self._consistency_heads is not None:
        self._variables += list(self._consistency_heads.trainable_variables)
      # Sonnet optimizers make their slots on the first update; making them now lets
      # `restore_checkpoint` fill them at once (the step counter and weights are already there).
      self._optimizer._initialize(self._variables)  # pylint: disable=protected-access
    checkpointed = dict(network=network, optimizer=self._optimizer,
                        learner_steps=self._learner_steps)
    if self._consistency_heads is not None:
      checkpointed['consistency_heads'] = self._consistency_heads
    self._checkpointed = checkpointed
    self._checkpoint = tf.train.Checkpoint(**checkpointed)
    self._checkpoint_manager = None
    if checkpoint_directory:
      # Two, so that a checkpoint that cannot be read leaves the one before it to restore.
      self._checkpoint_manager = tf.train.CheckpointManager(
          self._checkpoint, checkpoint_directory, max_to_keep=2)
    # One code path with and without XLA: the same function, compiled on its own or traced
    # into `_train`'s graph.
    self._compute_step = (tf.function(self._loss_and_gradients, jit_compile=True)
                          if config.learner_xla else self._loss_and_gradients)
    self._last_step_time = None
    self.last_priorities = None
    self.last_staleness: Dict[str, float] = {}

  @property
  def network(self):
    return self._network

  @property
  def learner_steps(self) -> int:
    return int(self._learner_steps.numpy())

  @property
  def state(self) -> Dict[str, object]:
    """Checkpointable state, for `acme.tf.savers.Checkpointer` (network, optimizer, step and
    the consistency heads when in use)."""
    return dict(self._checkpointed)

  def _bootstrap_values(self, data) -> tf.Tensor:
    """[B, K + 1] values of the bootstrap rows: the target network's, or the stored ones."""
    if self._target_network is None:
      return data['bootstrap_value']
    observation = data['bootstrap_observation']
    rows = tf.shape(tree.flatten(observation)[0])[1]
    values = self._target_network.initial_inference(
        tree.map_structure(_merge_batch_and_rows, observation)).value
    return tf.reshape(values, [-1, rows])

  def _consistency(self, data, unrolled: losses.Unroll, mask: tf.Tensor) -> tf.Tensor:
    """[B, K] per-step consistency loss (`config.consistency_space`), masked to real
    observations."""
    unroll_steps = self._config.unroll_steps
    later = tree.map_structure(lambda x: _merge_batch_and_rows(x[:, 1:]), data['observation'])
    target = self._network.initial_inference(later).latent
    predicted = _merge_batch_and_rows(tf.stack(unrolled.latents[1:], axis=1))
    per_step = tf.reshape(consistency.per_sample_loss(predicted, target, self._consistency_heads),
                          [-1, unroll_steps])
    return per_step * mask[:, 1:]

  def _padding_actions(self, actions: tf.Tensor) -> tf.Tensor:
    """Uniformly random actions shaped as the batch's `actions`, for the unroll past the end
    of an episode.

    Past the end the stored actions are zero padding; random actions there train the model's
    absorbing states under every action the search may try. Drawn outside the XLA-compiled
    part: from the same seed, XLA's float `stateless_uniform` gives other numbers than
    TensorFlow's kernel (TF 2.8; integers agree), so the two paths would train on different
    actions.
    """
    seed = tf.stack([self._learner_steps, tf.constant(7, tf.int64)])
    if self._network.action_size is None:
      return tf.random.stateless_uniform(tf.shape(actions), seed=seed,
                                         maxval=self._network.num_actions, dtype=tf.int32)
    # Continuous: uniform in the canonical bounds [-1, 1]^D.
    return tf.random.stateless_uniform(tf.shape(actions), seed=seed, minval=-1.0, maxval=1.0)

  def _loss_and_gradients(self, data, weights: tf.Tensor, padding_actions: tf.Tensor):
    """Everything of a step but the update and its random draws, with no variable written:
    what XLA compiles with `config.learner_xla`.

    Returns:
      (gradients, clipped when configured; metrics but the learning rate; new priorities [B];
      whether loss, gradient norm and priorities are all finite).
    """
    config = self._config
    item_targets = replay.item_targets(
        data, self._bootstrap_values(data), config.unroll_steps, config.td_steps,
        config.discount, self._two_player)
    first_observation = tree.map_structure(lambda x: x[:, 0], data['observation'])
    is_decision = item_targets.policy_mask[:, :config.unroll_steps] > 0
    if self._network.action_size is not None:
      is_decision = is_decision[..., None]
    actions = tf.where(is_decision, data['action'], padding_actions)
    with tf.GradientTape() as tape:
      unrolled = losses.unroll(self._network, first_observation, actions)
      consistency_loss = (self._consistency(data, unrolled, item_targets.observation_mask)
                          if config.consistency_loss_weight > 0 else None)
      loss = losses.muzero_loss(
          unrolled.value_logits, unrolled.reward_logits,
          losses.policy_log_probs(unrolled.policy_logits, item_targets.sampled_actions),
          item_targets.value, item_targets.reward, item_targets.policy, item_targets.policy_mask,
          weights, config.value_loss_weight, value_mask=item_targets.value_mask,
          reward_mask=item_targets.reward_mask, consistency=consistency_loss,
          consistency_loss_weight=config.consistency_loss_weight)
      l2 = losses.l2_penalty(self._variables, config.weight_decay)
      total_loss = loss.loss + l2
      if self._network.action_size is not None and config.policy_entropy_weight > 0:
        total_loss -= config.policy_entropy_weight * tf.reduce_mean(weights * losses.policy_entropy(
            unrolled.policy_logits, item_targets.policy_mask))
    gradients = tape.gradient(total_loss, self._variables)
    gradient_norm = tf.linalg.global_norm(gradients)
    if config.max_gradient_norm is not None:
      gradients, _ = tf.clip_by_global_norm(gradients, config.max_gradient_norm, gradient_norm)
    new_priorities = replay.priorities(unrolled.initial_value, item_targets.value[:, 0],
                                       config.priority_epsilon)
    # Checked before the update, in the graph: a NaN that reached the weights would reach every
    # later step, the actors and the checkpoint. The priorities too: they go to the replay's
    # sampling and, as max_priority, to every new item.
    finite = tf.reduce_all([tf.math.is_finite(total_loss), tf.math.is_finite(gradient_norm),
                            tf.reduce_all(tf.math.is_finite(new_priorities))])
    metrics = {
        'total_loss': total_loss,
        'value_loss': loss.value_loss,
        'reward_loss': loss.reward_loss,
        'policy_loss': loss.policy_loss,
        'consistency_loss': loss.consistency_loss,
        'l2_loss': l2,
        'gradient_norm': gradient_norm,
        'mean_priority': tf.reduce_mean(new_priorities),
        'mean_value_target': tf.reduce_mean(item_targets.value[:, 0]),
        'mean_importance_weight': tf.reduce_mean(weights),
    }
    return gradients, metrics, new_priorities, finite

  @tf.function
  def _train(self, data, weights: tf.Tensor):
    config = self._config
    if self._symmetries is not None:
      # Outside the XLA-compiled part, for the reason `_padding_actions` gives.
      data = self._symmetries.augment(
          data, seed=tf.stack([self._learner_steps, tf.constant(11, tf.int64)]))
    gradients, metrics, new_priorities, finite = self._compute_step(
        data, weights, self._padding_actions(data['action']))

    def apply_update():
      self._learning_rate.assign(config.learning_rate * tf.pow(
          config.learning_rate_decay_rate,
          tf.cast(self._learner_steps, tf.float32) / config.learning_rate_decay_steps))
      self._optimizer.apply(gradients, self._variables)
      self._learner_steps.assign_add(1)
      return tf.constant(True)

    applied = tf.cond(finite, apply_update, lambda: tf.constant(False))
    staleness = tf.cast(self._learner_steps - data['weights_version'], tf.float32)
    metrics = dict(metrics, learning_rate=self._learning_rate.read_value())
    return metrics, new_priorities, staleness, applied

  def _next_batch(self):
    """(data, keys, probabilities, table sizes) of the next batch: the replay's items, then the
    reanalysed ones with their source items' key, probability and table size."""
    as_iterator = lambda dataset: (iter(dataset) if isinstance(dataset, tf.data.Dataset)
                                   else dataset)
    if self._iterator is None:
      self._iterator = as_iterator(self._dataset)
    sample = next(self._iterator)
    data, info = sample.data, sample.info
    if self._reanalyzed_dataset is None:
      return data, info.key, info.probability, info.table_size
    if self._reanalyzed_iterator is None:
      self._reanalyzed_iterator = as_iterator(self._reanalyzed_dataset)
    reanalysed = dict(next(self._reanalyzed_iterator).data)
    sources = [reanalysed.pop(name) for name in reanalyze.SOURCE_COLUMNS]
    data = tree.map_structure(lambda own, fresh: tf.concat([own, fresh], axis=0), data,
                              reanalysed)
    keys, probabilities, table_sizes = (
        tf.concat([tf.cast(own, fresh.dtype), fresh], axis=0)
        for own, fresh in zip((info.key, info.probability, info.table_size), sources))
    return data, keys, probabilities, table_sizes

  def step(self):
    """One learner update: sample, train, write new priorities, count and log.

    Raises:
      NonFiniteError: the loss, the gradient norm or a new priority was NaN or infinite.
        Nothing changed: the update was not applied, no priority was written and the step was
        not counted.
    """
    data, keys, probabilities, table_sizes = self._next_batch()
    weights = replay.importance_weights(probabilities, table_sizes,
                                        self._config.importance_sampling_exponent)
    if (self._target_network is not None
        and self.learner_steps % self._config.target_update_period == 0):
      self._update_target_network()
    with tf.device(self._device):
      metrics, priorities, staleness, applied = self._train(data, weights)
    if not bool(applied.numpy()):
      # Before priorities and max_priority: NaN priorities would poison the replay's sampling
      # and, through the actors, every new item.
      raise NonFiniteError(self._non_finite_message(metrics, priorities, data))
    keys, priorities = keys.numpy(), priorities.numpy()
    self.last_priorities = (keys, priorities)
    self._max_priority.assign(float(priorities.max()))
    # Uniform sampling (alpha = 0) never reads priorities: writing them would cost a round trip.
    if self._replay_client is not None and self._config.priority_exponent > 0:
      self._replay_client.mutate_priorities(
          self._table, updates=dict(zip(keys.tolist(), priorities.tolist())))

    now = time.time()
    elapsed = now - self._last_step_time if self._last_step_time is not None else 0.0
    self._last_step_time = now
    counts = self._counter.increment(steps=1, walltime=elapsed)
    result = {name: float(value.numpy()) for name, value in metrics.items()}
    # Learner steps since the weights that searched the batch's first rows (policy targets' age),
    # for the replay's items and the reanalysed ones.
    staleness = staleness.numpy()
    own, reanalysed = self._config.batch_split
    result['policy_target_staleness'] = float(staleness[:own].mean())
    if reanalysed:
      result['reanalyzed_target_staleness'] = float(staleness[own:].mean())
    self.last_staleness = {name: result[name] for name in (
        'policy_target_staleness', 'reanalyzed_target_staleness') if name in result}
    result['learner_steps_per_second'] = 1.0 / elapsed if elapsed > 0 else 0.0
    result.update(counts)
    self._logger.write(result)
    return result

  def _non_finite_message(self, metrics, priorities, data) -> str:
    """Says which figures of a refused update were non-finite and which batch columns hold
    non-finite values (none: the network or the learning rate diverged)."""
    figures = ('total_loss', 'value_loss', 'reward_loss', 'policy_loss', 'consistency_loss',
               'l2_loss', 'gradient_norm')
    values = {name: float(metrics[name].numpy()) for name in figures}
    bad = [f'{name}={value}' for name, value in values.items() if not np.isfinite(value)]
    bad_priorities = int(np.sum(~np.isfinite(priorities.numpy())))
    if bad_priorities:
      bad.append(f'priorities of {bad_priorities} of {priorities.shape[0]} items')
    bad = ', '.join(bad)
    columns = sorted({'.'.join(str(part) for part in path)
                      for path, value in tree.flatten_with_path(data)
                      if tf.as_dtype(value.dtype).is_floating
                      and not np.all(np.isfinite(np.asarray(value)))})
    if columns:
      cause = (f'the batch holds non-finite values in {", ".join(columns)} (check the '
               'environment\'s rewards, discounts and observations)')
    else:
      cause = ('the batch is finite, so the network diverged: lower MuZeroConfig.learning_rate '
               f'(the last step\'s rate: {float(metrics["learning_rate"].numpy()):g}) or set '
               'max_gradient_norm (both may change when the run is resumed)')
    return (f'learner step {self.learner_steps + 1}: non-finite {bad}; the update was not '
            f'applied, so weights, optimizer and learner_steps={self.learner_steps} are those of '
            f'the last good step; {cause}.')

  def non_finite_variables(self) -> List[str]:
    """Names of the trained variables (network, consistency heads) holding NaN or inf values."""
    return [variable.name for variable in self._variables
            if not np.all(np.isfinite(variable.numpy()))]

  def _update_target_network(self):
    for target, online in zip(self._target_network.variables, self._network.variables):
      target.assign(online)

  def get_variables(self, names: Sequence[str]) -> List[List[np.ndarray]]:
    """The named variable groups as lists of numpy arrays, in the order of `names`."""
    groups = dict(self._network.variable_groups())
    groups[LEARNER_STEPS] = [self._learner_steps]
    groups[MAX_PRIORITY] = [self._max_priority]
    unknown = [name for name in names if name not in groups]
    if unknown:
      raise ValueError(f'unknown variable group(s) {unknown}; allowed: {sorted(groups)}.')
    return [[variable.numpy() for variable in groups[name]] for name in names]

  def save_checkpoint(self) -> str:
    """Writes network, optimizer and step counter to the checkpoint directory; returns the path.

    Raises:
      NonFiniteError: a trained variable holds NaN or inf. `restore_checkpoint` takes the newest
        readable checkpoint and the manager keeps two, so saving would make a resume start from
        the poisoned weights (and a second save would delete the last good checkpoint).
    """
    if self._checkpoint_manager is None:
      raise ValueError('this learner was made without a checkpoint_directory.')
    non_finite = self.non_finite_variables()
    if non_finite:
      raise NonFiniteError(
          f'not saving learner step {self.learner_steps}: {len(non_finite)} variables hold '
          f'non-finite values ({", ".join(non_finite[:3])}{", ..." if len(non_finite) > 3 else ""}'
          '); the last checkpoint is kept.')
    return self._checkpoint_manager.save(checkpoint_number=self.learner_steps)

  def restore_checkpoint(self) -> bool:
    """Restores the newest readable checkpoint of the directory; returns whether there was one.

    TensorFlow writes a checkpoint's files first and the directory's index of checkpoints last
    (atomically), so a kill while saving leaves the previous checkpoint listed and the partial
    one unseen. A listed checkpoint that still cannot be read (a damaged file) is reported and
    the one before it restored.

    Raises:
      ValueError: checkpoints are listed but none can be read.
    """
    if self._checkpoint_manager is None:
      raise ValueError('this learner was made without a checkpoint_directory.')
    listed = self._checkpoint_manager.checkpoints
    if not listed:
      return False
    errors = []
    for path in reversed(listed):
      try:
        self._checkpoint.restore(path).assert_existing_objects_matched()
      except Exception as error:  # pylint: disable=broad-except
        # TensorFlow's reader raises OpErrors, IndexError or ValueError for damaged files.
        errors.append(f'{path}: {type(error).__name__}: {error}')
        logging.warning('learner: checkpoint %s cannot be read (%s: %s); trying the one before.',
                        path, type(error).__name__, error)
        continue
      if self._target_network is not None:
        self._update_target_network()
      return True
    raise ValueError(f'none of the learner checkpoints can be read: {"; ".join(errors)}')
