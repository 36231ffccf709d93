"""Makes every piece of a MuZero agent from its config: replay table, adders, dataset, actor, learner.

The single-process agent (`agents.muzero.agent`) and a distributed program are two arrangements
of the same builder; only the replay table's rate limiter differs (`make_replay_tables`).
"""

from typing import Callable, Iterator, List, Optional

import reverb
import tensorflow as tf
from acme import core
from acme import datasets
from acme import specs
from acme.adders import reverb as acme_adders
from acme.utils import counting
from acme.utils import loggers

import networks
from agents.muzero import actor as actor_lib
from agents.muzero import canonical
from agents.muzero import config as config_lib
from agents.muzero import learning
from agents.muzero import reanalyze
from agents.muzero import replay
from agents.muzero import symmetries
from environments import specs as environment_specs

TABLE = acme_adders.DEFAULT_PRIORITY_TABLE


class MuZeroBuilder:
  """Builds MuZero's components for one environment spec and config.

  The environment spec may have any dtypes, discrete actions or bounded continuous ones;
  everything is built for its canonical spec (`agents.muzero.canonical`). Continuous actions
  are searched and learned with Sampled MuZero (`agents.muzero.sampled`).
  """

  def __init__(self, config: config_lib.MuZeroConfig, environment_spec: specs.EnvironmentSpec,
               table: str = TABLE):
    self._config = config.validate()
    # Replay, networks and learner see the canonical dtypes; the actor answers in the user's.
    self._spec = canonical.canonical_spec(environment_spec)
    # The one answer to "is this a two-player game?", handed to everything built here.
    self._two_player = environment_specs.is_two_player(self._spec.observations)
    self._action_dtype = environment_spec.actions.dtype
    self._environment_actions = environment_spec.actions
    # Made here, so that symmetries that do not fit the board fail before anything starts.
    self._symmetries = symmetries.from_spec(config.board_symmetries, self._spec)
    self._table = table

  @property
  def config(self) -> config_lib.MuZeroConfig:
    return self._config

  @property
  def two_player(self) -> bool:
    """Whether the environment is a two-player game (`environments.specs.is_two_player`)."""
    return self._two_player

  @property
  def table(self) -> str:
    return self._table

  @property
  def layout(self) -> replay.ItemLayout:
    return replay.ItemLayout.from_config(self._config,
                                         canonical.is_continuous(self._spec.actions))

  def signature(self):
    """The replay tables' signature (`agents.muzero.replay.item_signature`)."""
    return replay.item_signature(self._spec, self.layout)

  def make_rate_limiter(self, single_process: bool) -> reverb.rate_limiters.RateLimiter:
    """MinSize in one process (a SampleToInsertRatio there can deadlock actor and learner, which
    share a thread); SampleToInsertRatio with the config's tolerance when they run apart."""
    config = self._config
    if single_process:
      return reverb.rate_limiters.MinSize(config.min_replay_size)
    tolerance = config.samples_per_insert_tolerance_rate * config.samples_per_insert
    return reverb.rate_limiters.SampleToInsertRatio(
        samples_per_insert=config.samples_per_insert,
        min_size_to_sample=config.min_replay_size,
        # Reverb needs error_buffer >= 2 max(1, samples_per_insert).
        error_buffer=max(config.min_replay_size * tolerance,
                         2.0 * max(1.0, config.samples_per_insert)))

  def make_replay_tables(self, single_process: bool = False) -> List[reverb.Table]:
    """The prioritized replay table (priority exponent alpha, FIFO removal, max size,
    signature) and, with reanalysis, the reanalyze table."""
    config = self._config
    tables = [reverb.Table(
        name=self._table,
        sampler=reverb.selectors.Prioritized(config.priority_exponent),
        remover=reverb.selectors.Fifo(),
        max_size=config.max_replay_size,
        rate_limiter=self.make_rate_limiter(single_process),
        signature=self.signature())]
    if config.reanalyze:
      tables.append(self._make_reanalyze_table(single_process))
    return tables

  def _make_reanalyze_table(self, single_process: bool) -> reverb.Table:
    """Uniform sampling of a short FIFO of reanalysed items (a few learner batches' worth, so
    that targets stay fresh); between processes a `SampleToInsertRatio` keeps each item sampled
    `reanalyze_samples_per_insert` times on average, so a learner faster than its reanalyzers
    waits for them (the configured share of the batch is a promise). One process paces
    reanalysis itself (`agents.muzero.agent`), and only needs an item to exist."""
    config = self._config
    reanalysed = config.batch_split[1]
    chunk = max(reanalysed, config.reanalyze_batch_size)
    if single_process:
      rate_limiter = reverb.rate_limiters.MinSize(1)
    else:
      spi = config.reanalyze_samples_per_insert
      rate_limiter = reverb.rate_limiters.SampleToInsertRatio(
          samples_per_insert=spi, min_size_to_sample=reanalysed,
          error_buffer=max(2.0 * spi * chunk, 2.0 * max(1.0, spi)))
    return reverb.Table(
        name=reanalyze.REANALYZE_TABLE,
        sampler=reverb.selectors.Uniform(),
        remover=reverb.selectors.Fifo(),
        max_size=4 * chunk,
        rate_limiter=rate_limiter,
        signature=reanalyze.reanalyzed_signature(self.signature()))

  def make_adder(self, replay_client: reverb.Client,
                 should_stop: Optional[Callable[[], bool]] = None) -> replay.ReplayWriter:
    """A replay writer for one environment (initial priority: `config.initial_priority`);
    `should_stop` lets a write waiting on the rate limiter give up (`replay.ReplayWriter`)."""
    config = self._config
    return replay.ReplayWriter(replay_client, self._table, self.layout,
                               initial_priority=config.initial_priority, discount=config.discount,
                               two_player=self._two_player,
                               priority_epsilon=config.priority_epsilon,
                               observation_spec=self._spec.observations, should_stop=should_stop)

  def make_dataset(self, replay_address: str, table: Optional[str] = None,
                   batch_size: Optional[int] = None) -> tf.data.Dataset:
    """Prefetched batches of `table`'s items (Acme's `make_reverb_dataset`).

    By default the learner's share of the replay table: the whole batch, or without its
    reanalysed part (`MuZeroConfig.batch_split`).
    """
    config = self._config
    batch_size = batch_size or config.batch_split[0]
    return datasets.make_reverb_dataset(
        server_address=replay_address, batch_size=batch_size,
        prefetch_size=config.prefetch_size, table=table or self._table,
        num_parallel_calls=config.num_parallel_calls,
        max_in_flight_samples_per_worker=batch_size)

  def make_reanalyzed_dataset(self, replay_address: str) -> Optional[tf.data.Dataset]:
    """The learner's share of reanalysed items per batch, or None without reanalysis."""
    if not self._config.reanalyze:
      return None
    return self.make_dataset(replay_address, reanalyze.REANALYZE_TABLE,
                             self._config.batch_split[1])

  def make_dataset_iterator(self, replay_address: str) -> Iterator[reverb.ReplaySample]:
    """An iterator over `make_dataset`; sampling starts (and may block) once it exists."""
    return iter(self.make_dataset(replay_address))

  def make_sampler(self, replay_address: str, batch_size: int,
                   should_stop: Optional[Callable[[], bool]] = None) -> replay.StoppableSampler:
    """Numpy batches of the replay table read as `make_dataset` reads them (the config's
    readers and prefetch), whose waits on the rate limiter give up once `should_stop` says so."""
    config = self._config
    return replay.StoppableSampler(replay_address, self._table, batch_size, should_stop,
                                   num_readers=config.num_parallel_calls,
                                   prefetch_size=config.prefetch_size)

  def make_reanalyzer(self, network: networks.MuZeroNetwork, replay_client: reverb.Client,
                      variable_source: core.VariableSource, seed: int = 0,
                      wait_for_weights: bool = False,
                      should_stop: Optional[Callable[[], bool]] = None) -> reanalyze.Reanalyzer:
    """A reanalyzer sampling `reanalyze_batch_size` items at a time from the replay table;
    `should_stop` lets its samples and writes that wait on a rate limiter give up
    (`replay.StoppableSampler`, `replay.flush`)."""
    actor = self.make_actor(network, variable_source=variable_source, seed=seed)
    samples = self.make_sampler(replay_client.server_address, self._config.reanalyze_batch_size,
                                should_stop)
    return reanalyze.Reanalyzer(actor, samples, replay_client, wait_for_weights=wait_for_weights,
                                should_stop=should_stop)

  def make_network(self) -> networks.MuZeroNetwork:
    """A network for this spec and `config.network`, variables created."""
    return networks.make_network(self._spec, self._config.network)

  def make_actor(self, network: networks.MuZeroNetwork,
                 adders: Optional[List[replay.ReplayWriter]] = None,
                 variable_source: Optional[core.VariableSource] = None,
                 num_environments: int = 1, greedy: bool = False, seed: int = 0,
                 wait_for_variables: bool = True,
                 environment_name: Optional[str] = None) -> actor_lib.MuZeroActor:
    """An actor for `num_environments` environments (greedy and without adders to evaluate);
    `environment_name` names them in its errors."""
    return actor_lib.MuZeroActor(network, self._config, num_environments=num_environments,
                                 adders=adders, variable_source=variable_source, greedy=greedy,
                                 seed=seed, wait_for_variables=wait_for_variables,
                                 action_dtype=self._action_dtype,
                                 action_spec=self._environment_actions,
                                 environment_name=environment_name, two_player=self._two_player)

  def make_learner(self, network: networks.MuZeroNetwork, dataset,
                   replay_client: Optional[reverb.Client] = None,
                   counter: Optional[counting.Counter] = None,
                   logger: Optional[loggers.Logger] = None,
                   checkpoint_directory: Optional[str] = None,
                   device: Optional[str] = None,
                   reanalyzed_dataset=None) -> learning.MuZeroLearner:
    """The learner, reading `dataset` (and `reanalyzed_dataset` with reanalysis) and writing
    priorities through `replay_client`; its target network is made here."""
    target_network = (self.make_network() if self._config.target_update_period is not None
                      else None)
    return learning.MuZeroLearner(network, dataset, self._config, replay_client=replay_client,
                                  table=self._table, counter=counter, logger=logger,
                                  checkpoint_directory=checkpoint_directory, device=device,
                                  target_network=target_network,
                                  reanalyzed_dataset=reanalyzed_dataset,
                                  symmetries=self._symmetries, two_player=self._two_player)
