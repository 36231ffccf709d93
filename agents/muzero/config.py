"""Configuration of the MuZero agent: one dataclass with the paper's defaults, and presets.

Numbers marked "paper" come from Schrittwieser et al. 2020, "Mastering Atari, Go, chess and shogi
by planning with a learned model" (Nature 588), its Methods / Appendices and the pseudocode
published with it (`make_atari_config`, `make_board_game_config`, `train_network`).
"""

import ast
import dataclasses
import math
import re
from typing import List, Optional, Tuple

import validation
from networks import NetworkConfig
from search.config import SearchConfig

# MuZeroConfig.initial_priority values (see agents.muzero.replay).
INITIAL_PRIORITIES = ('max', 'search')

OPTIMIZERS = ('sgd', 'adam')

# MuZeroConfig.consistency_space values (see networks.consistency).
CONSISTENCY_SPACES = ('projection', 'latent')

# MuZeroConfig.board_symmetries values (see agents.muzero.symmetries).
BOARD_SYMMETRIES = ('none', 'dihedral', 'mirror')

# SearchConfig fields the agent sets for every search, not the config, and where from (see
# MuZeroConfig.search).
AGENT_SET_SEARCH_FIELDS = {
    'discount': 'MuZeroConfig.discount',
    'two_player': 'the environment spec (environments.specs.is_two_player)',
    'add_noise': 'on for acting, off for greedy evaluation',
    'temperature': 'temperature_schedule and num_exploration_moves, move by move',
}

# Paper (pseudocode `make_go_config`, `make_chess_config`, `make_shogi_config`): Dirichlet alpha
# per game, roughly inversely proportional to the number of legal moves (AlphaZero). Go's 0.03 is
# for 19x19 (362 moves); smaller boards keep alpha * moves constant (`_dirichlet_alpha`).
_PAPER_DIRICHLET_ALPHA = {'go': 0.03, 'chess': 0.3, 'shogi': 0.15}
_PAPER_GO_MOVES = 19 * 19 + 1
# Paper (pseudocode): board games end after at most 512 moves (chess, shogi).
_PAPER_MAX_MOVES = 512
# Games whose paper-size settings are out of reach of 2 cores and whose whole tree is small.
# Their settings were measured here (BENCHMARKS.md, "Board games" and "Connect four"), not taken
# from the paper: (simulations, exploratory moves, unvisited_q, samples per insert, replay size,
# board symmetries).
# Tic-tac-toe's 9 moves would all be sampled under the paper's 30; with 3 and 'parent', 6 minutes
# on one core reached a mean score of -0.13 against minimax, against -0.54 with 30 and 'minimum'.
# Connect four with 10 exploratory moves (of at most 42), 4 samples per insert and a 40k replay
# (policy targets ~700 learner steps old when sampled, against ~3,250 with 30, 8 and 100k) won 3,
# 8 and 14 of 20 games after an hour on 2 cores against MCTS with 1000, 200 and 50 rollouts,
# against 0, 4 and 5. Board symmetries as data augmentation: tic-tac-toe (8) unbeaten by minimax
# on 2 cores after 161-226 s over seeds 0-4 (median 222 s), against 284 s to never in 420 s
# (median 319 s) without; connect four (the mirror) won 17 of 20 against MCTS-1000 after the
# hour (seed 0), against 4.
_SMALL_GAMES = {'tic_tac_toe': (25, 3, 'parent', 8.0, 100_000, 'dihedral'),
                'connect_four': (50, 10, 'minimum', 4.0, 40_000, 'mirror')}


@dataclasses.dataclass
class MuZeroConfig:
  """Everything the MuZero actor, learner and replay need, with the paper's Atari defaults.

  Attributes:
    discount: per-step discount gamma of rewards and of the bootstrap value (paper, Atari: 0.997;
      board games: 1).
    unroll_steps: K, the number of dynamics steps the learner unrolls per sample (paper: 5).
    td_steps: n of the n-step value target z_t = sum_{i<n} gamma^i u_{t+i} + gamma^n v_{t+n}
      (paper, Atari: 10; board games: up to the end of the game).
    search: the search's settings (`search.SearchConfig`): simulations per move (paper: 50
      for Atari, 800 for board games), the pUCT constants c1 = 1.25 and c2 = 19652, the root's
      Dirichlet noise (Atari: alpha 0.25; chess 0.3, shogi 0.15, Go 0.03; fraction 0.25), known
      value bounds (board games: [-1, 1]), `unvisited_q`, `search_policy` ('muzero' or
      'gumbel', Gumbel MuZero, Danihelka et al. 2022: the temperature schedule and Dirichlet
      noise do not apply) and Gumbel's constants. Four of its fields are not set here, since
      the agent knows them for each search (`AGENT_SET_SEARCH_FIELDS`): `discount` is
      `MuZeroConfig.discount`, which the value targets share; `two_player` is a fact of the
      environment spec (`environments.specs.is_two_player`); `add_noise` is off for greedy
      evaluation only; `temperature` comes from `temperature_schedule` move by move. They stay
      at SearchConfig's defaults (`validate` refuses others) and run.json does not record them.
    temperature_schedule: ((learner_step, temperature), ...) sorted by step: from each step on,
      actors sample actions with probability proportional to visit_count^(1 / temperature)
      (paper, Atari: 1.0 until 500k learner steps, 0.5 until 750k, then 0.25). A temperature of 0
      means the most visited action.
    num_exploration_moves: if set, moves of an episode from this index on are chosen greedily
      (temperature 0) whatever the schedule (paper, board games: 30, after AlphaZero); None keeps
      the schedule for the whole episode (Atari).
    envs_per_actor: B, the environments an actor steps in lock-step with one batched search.
    variable_update_period: actor steps (one step is one batched search) between two requests
      for fresh weights from the learner (Acme's `VariableClient` update period).
    batch_size: sequences per learner step (paper: 1024 for Atari, 2048 for board games; 256 here
      so that one learner fits a small accelerator or a CPU).
    optimizer: 'sgd' (momentum SGD, the paper's choice) or 'adam'.
    learning_rate: initial learning rate (paper, Atari: 0.05; chess and shogi 0.1, Go 0.01).
    learning_rate_decay_rate: the rate decays as learning_rate * decay_rate^(step / decay_steps)
      (paper: 0.1).
    learning_rate_decay_steps: see learning_rate_decay_rate (paper, Atari: 350e3; board games
      400e3).
    momentum: momentum of 'sgd' (paper: 0.9); ignored by 'adam'.
    weight_decay: L2 coefficient c of c * sum(w^2) / 2 over all network weights (paper: 1e-4).
    max_gradient_norm: clip the global gradient norm to this value; None does not clip (paper:
      no clipping).
    value_loss_weight: weight of the value loss (paper: 1; 0.25 with MuZero Reanalyze).
    learner_xla: compile the learner step's targets, unroll, loss, gradients, priorities and
      finiteness check with XLA (`tf.function(jit_compile=True)`); the random actions past an
      episode's end and the optimizer's update stay in the graph. Same results up to float
      rounding. Off in every preset: on one core it took 15-19% off a CartPole or Pendulum
      step but its first step took 36-45 s longer (XLA's compile); tic-tac-toe's, 23% off,
      took 7 minutes longer (BENCHMARKS.md, "XLA for the learner step"). For accelerators or
      runs long enough to repay the compile.
    priority_exponent: alpha of prioritized replay, P(i) = p_i^alpha / sum_k p_k^alpha (paper,
      Atari: 1; board games sample uniformly: 0).
    importance_sampling_exponent: beta of the importance weights (1 / (N P(i)))^beta, which are
      normalised by their maximum over the batch (paper: 1).
    priority_epsilon: added to every priority |v - z| so that no sequence becomes unsampleable.
    max_replay_size: sequences the replay table holds before the oldest are removed (FIFO). Each
      environment step starts one sequence of unroll_steps + td_steps + 1 steps; Reverb stores
      the steps once whatever the overlap.
    min_replay_size: sequences the table must hold before the learner samples.
    samples_per_insert: sequences the learner samples per sequence inserted, i.e.
      batch_size * learner_steps / env_steps; it sets how many env steps one learner step costs.
    samples_per_insert_tolerance_rate: slack of the distributed `SampleToInsertRatio` rate limiter
      (relative to samples_per_insert * min_replay_size).
    prefetch_size: batches the learner's dataset (and a reanalyzer's sampler) prefetches.
    num_parallel_calls: parallel Reverb readers in the learner's dataset (Acme's
      `make_reverb_dataset` argument) and in a reanalyzer's sampler. Every reader keeps samples in flight, whose priorities are
      older than the latest update; few readers keep prioritisation fresh, but one reader over
      gRPC left the distributed CartPole learner waiting for samples half of the time (uniform
      presets use 4).
    initial_priority: priority of a new replay item: 'max' (the largest priority of the learner's
      latest batch, as prioritized replay does for new data) or 'search' (the paper's |v - z| from
      the actor's search; starves items when early values are all 0); see
      `agents.muzero.replay`.
    target_update_period: learner steps between two copies of the network into a target network
      that recomputes the bootstrap values v_{t+n} from the stored observations (fresh targets,
      as MuZero Reanalyze and EfficientZero do); None bootstraps from the root values the actors
      stored (the paper's original MuZero).
    consistency_loss_weight: weight of EfficientZero's self-supervised consistency loss (Ye et al.
      2021): the latent the dynamics predicts k steps ahead against the representation of the
      observation at t + k (`consistency_space`); 0 turns it off.
    consistency_space: where the consistency loss compares the two latents: 'projection'
      (EfficientZero: the negative cosine similarity of SimSiam projection and prediction
      heads) or 'latent' (their squared Euclidean distance, the target's gradient stopped, as
      TD-MPC's latent consistency, Hansen et al. 2022). See `networks.consistency` for why
      continuous control needs 'latent'.
    consistency_projection_size: width of the consistency loss's projection and prediction
      heads (EfficientZero: 1024 for Atari); unused with consistency_space 'latent'.
    reanalyze_fraction: share of every learner batch taken from reanalysed items (MuZero
      Reanalyze, Schrittwieser et al. 2021): items sampled from the replay whose search policies
      and bootstrap values were recomputed by a search with recent weights; 0 turns reanalysis
      off (MuZero Reanalyze on Atari: 0.95 of the batch). See `agents.muzero.reanalyze`.
    reanalyze_samples_per_insert: how many times the learner samples a reanalysed item on
      average (the reanalyze table's rate limiter in the distributed program, the pace of
      reanalysis in one process): 1 trains on each once, as EfficientZero does; more spends
      less search on reanalysis and trains on older targets.
    reanalyze_batch_size: items a reanalyzer refreshes with one batched search (the search runs
      over 2 (K + 1) roots per item).
    board_symmetries: data augmentation for board games (AlphaGo Zero's): every item the learner
      trains on is seen through a random symmetry of the board, 'dihedral' (the 8 of a square
      board whose actions are its cells, e.g. tic-tac-toe, Go) or 'mirror' (the left-right
      reflection, e.g. connect four); 'none' (the paper's MuZero) trains on items as played.
      See `agents.muzero.symmetries`.
    num_sampled_actions: for continuous actions, the K actions Sampled MuZero (Hubert et al.
      2021) samples at every node the search expands; the search, the actor's choice and the
      policy target are over them (`agents.muzero.sampled`). Discrete action spaces ignore it.
    root_proposal_std_scale: for continuous actions, the root's proposal beta is the policy
      with its standard deviation (in atanh space) multiplied by this; 1 samples from the
      policy itself, more explores wider (the corrected prior weighs the samples back).
    policy_entropy_weight: for continuous actions, the learner subtracts this times the
      policy's entropy in atanh space (the sum of its log standard deviations, over the policy
      loss's steps and scales) from the loss; 0 is the paper's loss. Fitting the policy to the
      visits over its own samples narrows it whenever the visits concentrate, which the bonus
      counters.
    network: sizes of the representation, dynamics and prediction networks, including the
      categorical value and reward supports (paper, Atari: 601 bins each).
  """
  # Acting and search.
  discount: float = 0.997
  unroll_steps: int = 5
  td_steps: int = 10
  search: SearchConfig = dataclasses.field(default_factory=SearchConfig)
  temperature_schedule: Tuple[Tuple[int, float], ...] = ((0, 1.0), (500_000, 0.5), (750_000, 0.25))
  num_exploration_moves: Optional[int] = None
  envs_per_actor: int = 16
  variable_update_period: int = 100
  # Learning.
  batch_size: int = 256
  optimizer: str = 'sgd'
  learning_rate: float = 0.05
  learning_rate_decay_rate: float = 0.1
  learning_rate_decay_steps: int = 350_000
  momentum: float = 0.9
  weight_decay: float = 1e-4
  max_gradient_norm: Optional[float] = None
  value_loss_weight: float = 1.0
  learner_xla: bool = False
  # Replay.
  priority_exponent: float = 1.0
  importance_sampling_exponent: float = 1.0
  priority_epsilon: float = 1e-6
  max_replay_size: int = 1_000_000
  min_replay_size: int = 1_000
  samples_per_insert: float = 0.5
  samples_per_insert_tolerance_rate: float = 0.1
  prefetch_size: int = 4
  num_parallel_calls: int = 1
  initial_priority: str = 'max'
  # Fresh targets.
  target_update_period: Optional[int] = None
  consistency_loss_weight: float = 0.0
  consistency_space: str = 'projection'
  consistency_projection_size: int = 256
  reanalyze_fraction: float = 0.0
  reanalyze_samples_per_insert: float = 2.0
  reanalyze_batch_size: int = 16
  board_symmetries: str = 'none'
  # Continuous actions (Sampled MuZero).
  num_sampled_actions: int = 20
  root_proposal_std_scale: float = 1.0
  policy_entropy_weight: float = 0.0
  network: NetworkConfig = dataclasses.field(default_factory=NetworkConfig)

  @property
  def sequence_length(self) -> int:
    """Steps in one replay item: K unrolled steps and n bootstrap steps after the first."""
    return self.unroll_steps + self.td_steps + 1

  @property
  def reanalyze(self) -> bool:
    """Whether part of every batch comes from reanalysed items."""
    return self.reanalyze_fraction > 0

  @property
  def batch_split(self) -> Tuple[int, int]:
    """(items sampled from the replay, reanalysed items) of every learner batch."""
    reanalysed = int(round(self.batch_size * self.reanalyze_fraction))
    return self.batch_size - reanalysed, reanalysed

  def temperature(self, learner_step: int, move_number: int = 0) -> float:
    """The action-sampling temperature at `learner_step` for the `move_number`-th move."""
    if self.num_exploration_moves is not None and move_number >= self.num_exploration_moves:
      return 0.0
    current = self.temperature_schedule[0][1]
    for start_step, temperature in self.temperature_schedule:
      if learner_step >= start_step:
        current = temperature
    return current

  def learning_rate_at(self, learner_step: int) -> float:
    """learning_rate * decay_rate^(step / decay_steps), the paper's schedule."""
    return self.learning_rate * self.learning_rate_decay_rate ** (
        learner_step / self.learning_rate_decay_steps)

  def validate(self) -> 'MuZeroConfig':
    """Raises ValueError naming the field, its bad value and the allowed range; returns self.

    The nested `search` and `network` configs check their own fields when they are made.
    """
    owner, inf = 'MuZeroConfig', math.inf

    def fail(field, allowed):
      validation.fail(owner, field, getattr(self, field), allowed)

    for field, minimum in (('unroll_steps', 1), ('td_steps', 1), ('envs_per_actor', 1),
                           ('variable_update_period', 1), ('batch_size', 1),
                           ('learning_rate_decay_steps', 1), ('max_replay_size', 1),
                           ('min_replay_size', 1), ('prefetch_size', 0), ('num_parallel_calls', 1),
                           ('consistency_projection_size', 1), ('reanalyze_batch_size', 1),
                           ('num_sampled_actions', 1)):
      validation.check_int(owner, field, getattr(self, field), minimum)
    for field, low, high, low_open, high_open in (
        ('discount', 0.0, 1.0, True, False),
        ('learning_rate', 0.0, inf, True, True),
        ('learning_rate_decay_rate', 0.0, 1.0, True, False),
        ('momentum', 0.0, 1.0, False, True),
        ('weight_decay', 0.0, inf, False, True),
        ('value_loss_weight', 0.0, inf, False, True),
        ('priority_exponent', 0.0, inf, False, True),
        ('importance_sampling_exponent', 0.0, 1.0, False, False),
        ('priority_epsilon', 0.0, inf, True, True),
        ('samples_per_insert', 0.0, inf, True, True),
        ('samples_per_insert_tolerance_rate', 0.0, inf, True, True),
        ('consistency_loss_weight', 0.0, inf, False, True),
        ('reanalyze_fraction', 0.0, 1.0, False, True),
        ('reanalyze_samples_per_insert', 1.0, inf, False, True),
        ('root_proposal_std_scale', 0.0, inf, True, True),
        ('policy_entropy_weight', 0.0, inf, False, True)):
      validation.check_number(owner, field, getattr(self, field), low, high, low_open, high_open)
    if self.reanalyze and min(self.batch_split) < 1:
      fail('reanalyze_fraction', f'0, or a share of batch_size={self.batch_size} that leaves at '
           'least one item to each of the replay and the reanalysed items')
    if self.target_update_period is not None:
      validation.check_int(owner, 'target_update_period', self.target_update_period, 1)
    validation.check_bool(owner, 'learner_xla', self.learner_xla)
    validation.check_choice(owner, 'initial_priority', self.initial_priority, INITIAL_PRIORITIES)
    validation.check_choice(owner, 'optimizer', self.optimizer, OPTIMIZERS)
    validation.check_choice(owner, 'consistency_space', self.consistency_space,
                            CONSISTENCY_SPACES)
    validation.check_choice(owner, 'board_symmetries', self.board_symmetries, BOARD_SYMMETRIES)
    if self.max_gradient_norm is not None:
      validation.check_number(owner, 'max_gradient_norm', self.max_gradient_norm, 0.0, inf,
                              low_open=True, high_open=True)
    if self.min_replay_size > self.max_replay_size:
      fail('min_replay_size', f'at most max_replay_size={self.max_replay_size}')
    if self.num_exploration_moves is not None:
      validation.check_int(owner, 'num_exploration_moves', self.num_exploration_moves, 0)
    schedule = self.temperature_schedule
    steps = [entry[0] for entry in schedule] if all(len(entry) == 2 for entry in schedule) else None
    if (not schedule or steps is None or steps[0] != 0 or steps != sorted(steps)
        or any(temperature < 0 for _, temperature in schedule)):
      fail('temperature_schedule', 'a non-empty tuple of (learner_step, temperature >= 0) sorted '
           'by step, the first at step 0')
    if not isinstance(self.network, NetworkConfig):
      fail('network', 'a networks.NetworkConfig')
    if not isinstance(self.search, SearchConfig):
      fail('search', 'a search.SearchConfig')
    for field in AGENT_SET_SEARCH_FIELDS:
      default = getattr(SearchConfig, field)
      if getattr(self.search, field) != default:
        validation.fail(f'{owner}.search', field, getattr(self.search, field),
                        f'{default!r} (SearchConfig\'s default): the agent sets it for every '
                        f'search from {AGENT_SET_SEARCH_FIELDS[field]}')
    return self


def cartpole() -> MuZeroConfig:
  """Small settings that learn CartPole-v1 on a CPU in minutes (not from the paper).

  The search, targets and loss keep the paper's structure and constants; what shrinks is the
  network, the batch, the supports (CartPole's returns reach about 1 / (1 - 0.997) = 333, h(333)
  is about 17.6, so 2 * 20 + 1 = 41 bins cover them) and the replay; Adam replaces the paper's
  momentum SGD because it needs no tuning of the rate to the tiny network.

  Sample efficiency (measured with `bench.learn_cartpole`, BENCHMARKS.md "CartPole"): the paper's
  td_steps = 10 with a target network refreshed every 100 learner steps (fresh bootstrap values;
  with the stored values of an untrained model, 10-step targets kept the greedy return at ~9 for
  4000 learner steps, so this preset used 50 before), a consistency loss of weight 2 (as
  EfficientZero's) on the latents themselves (`consistency_space='latent'`), 32 samples
  per insert (one learner step per 4 environment steps; LightZero's CartPole trains about as
  often), uniform replay (alpha = beta = 0: with the paper's alpha = beta = 1 the mean importance
  weight was ~0.07 and the same settings had not passed a return of 30 after 19k environment
  steps), and a rate that decays tenfold every 10,000 steps (every 4000 stopped some seeds'
  learning at a return of 350-450; 20,000 let the return fall back after a solve). Seed 0
  before these: solved after 124k environment steps; after: 21k and held.

  Why the latent consistency (BENCHMARKS.md, "CartPole: the consistency loss on the latents"):
  with EfficientZero's SimSiam projections (64 wide) the greedy policy kept the pole up but
  drifted off the track: seed 0 stayed at ~155 from 17k to 30k environment steps, every episode
  ending at |x| > 2.4, the same under 10, 25 and 100 simulations and Gumbel at evaluation, so
  the model, not the search, was wrong; Pendulum showed the projections let the dynamics ignore
  the action (`networks.consistency`). With the latent distance, single process, seeds 0-3:
  first solve at 8.0k, 26.3k, 16.8k and 8.5k environment steps (63-186 s on one core), 3 of 4
  held for 120 s; `make run`'s program, seeds 0-2: 14.2k, 14.4k, 12.7k (69-73 s), 2 of 3 held.
  """
  return MuZeroConfig(
      discount=0.997,
      unroll_steps=5,
      td_steps=10,
      search=SearchConfig(num_simulations=25),
      temperature_schedule=((0, 1.0), (2_000, 0.5), (4_000, 0.25)),
      envs_per_actor=16,
      variable_update_period=10,
      batch_size=128,
      optimizer='adam',
      learning_rate=3e-3,
      learning_rate_decay_rate=0.1,
      learning_rate_decay_steps=10_000,
      weight_decay=1e-4,
      priority_exponent=0.0,
      importance_sampling_exponent=0.0,
      max_replay_size=50_000,
      min_replay_size=500,
      samples_per_insert=32.0,
      num_parallel_calls=4,
      target_update_period=100,
      consistency_loss_weight=2.0,
      consistency_space='latent',
      network=NetworkConfig(torso='mlp', value_support_size=41, reward_support_size=41,
                            latent_size=64, mlp_width=64, mlp_num_blocks=0))


def continuous_control() -> MuZeroConfig:
  """Sampled MuZero for small continuous-control tasks (Pendulum-v1, MountainCarContinuous-v0,
  InvertedPendulum-v5) on a CPU: `cartpole()`'s network, learner, replay and consistency loss on
  the latents themselves (`consistency_space='latent'`, their squared distance, rather than
  EfficientZero's SimSiam projections), with:

  - K = 8 actions sampled per node (`num_sampled_actions`) and 25 simulations, so that the
    search can try every root sample and look further along the best ones;
  - unvisited slots valued at their parent's value (`unvisited_q='parent'`): below the root the
    corrected prior over samples drawn from the policy itself is uniform, and the paper's rule
    (an unvisited child is worth the tree's minimum) would leave most samples untried;
  - a root proposal twice as wide as the policy (`root_proposal_std_scale=2`), so that acting
    keeps trying actions the policy has narrowed away from (the prior correction weighs them
    back towards the policy in the search);
  - discount 0.99 (Pendulum's swing-up pumps energy over ~100 steps) with cartpole's
    td_steps 10: rewards reach -16 per step, so returns reach 16 / 0.01 = 1600 and h(1600) is
    about 39; an 81-bin value support (-40..40) covers them and a 21-bin reward support
    (-10..10) covers h(16) = 3.1. The value head resolves Pendulum's torques at this scale: with
    the real dynamics its values of the next states spread by 8-15 across 8 torques (and a
    601-bin support did not make the model learn the torque's effect either).

  The latent consistency was found on Pendulum (BENCHMARKS.md, "Pendulum: why the model ignored
  the torque"): with the projections, the learned dynamics ignored the action. Across 8 torques at
  a state the model's Q (reward + discounted value after the dynamics) spread by 1.5-3 where the
  real dynamics with the same value head spread by 8-15, with a correlation of -0.15 to 0.3 after
  1-7k learner steps, so the search ranked the torques by noise and Pendulum's greedy return was
  still about -900 after 5 minutes. With the latent distance the model's spread matched the real
  one (11 against 11, correlation 0.86) after 1,900 learner steps; `bench.learn_control` on one
  core then solved Pendulum-v1 (-147) at its first evaluation, 60 s and 7,328 environment steps,
  and InvertedPendulum-v5 (974) in 188 s and 24,800 (the old preset: -946 after 300 s; 88 after
  600 s).
  """
  return dataclasses.replace(
      cartpole(), discount=0.99, td_steps=10,
      search=dataclasses.replace(cartpole().search, num_simulations=25, unvisited_q='parent'),
      num_sampled_actions=8, root_proposal_std_scale=2.0,
      network=dataclasses.replace(cartpole().network, value_support_size=81,
                                  reward_support_size=21))


# Sizes of the Atari preset, the default first; see `atari`.
ATARI_SIZES = ('small', 'paper', 'tiny')


def atari(size: str = 'small') -> MuZeroConfig:
  """The paper's Atari settings for any ALE game (`atari:Pong`, `atari:Breakout`, ...).

  Kept from the paper (Appendix F/G, pseudocode `make_atari_config`) in every size: the
  down-sampling ResNet torso on 96x96 frames with past actions as planes, 601-bin categorical
  value and reward supports, K = 5, td_steps = 10, discount 0.997, 50 simulations, Dirichlet
  alpha 0.25 with fraction 0.25, temperature 1 / 0.5 / 0.25 at 0 / 500k / 750k learner steps,
  momentum SGD (0.9) from 0.05 decaying by 0.1 every 350k steps, weight decay 1e-4, priority and
  importance exponents 1. The observation's frame and past-action counts come from the
  environment (`make_atari`: 4 and 4 by default; the paper stacks 32 and 32).

  Sizes:
    'small' (default): what a 2-core CPU machine runs (BENCHMARKS.md, "Atari": on one shared
      core an actor with 8 Pong environments makes 150-190 frames/s and a learner step at batch
      32 takes ~1.1 s, 40 s with the paper's network). Towers of 2 blocks of 64 channels
      (paper: 16 of 256), a down-sampling stem of 32 channels with one block per stage (paper:
      128 channels, 2 / 3 / 3 blocks), heads of 128 hidden units, batch 32 (paper: 1024), 8
      environments per actor, a replay of 20k sequences (~0.75 GB of frames; the paper's is far
      larger) that samples from 500 on, 0.5 samples per insert (a learner step per 64
      environment steps, about what one actor and one learner sustain on these cores), and
      fresh weights every 10 batched actor steps.
    'paper': the paper's network (16-block towers of 256 channels) and batch 1024; out of reach
      of a CPU (at batch 256 one learner step needs more than 18 GB here), for accelerators.
    'tiny': a network of 4 channels without residual blocks (its learner step traces in seconds,
      where each block adds several), batch 8, a replay that samples from 32 sequences, 8
      simulations over 2 environments per actor: runs end to end in seconds, to check the
      program, not to learn.
  """
  if size not in ATARI_SIZES:
    raise ValueError(f'Atari preset size {size!r} is not allowed; allowed: {", ".join(ATARI_SIZES)}.')
  supports = dict(value_support_size=601, reward_support_size=601)
  if size == 'paper':
    return MuZeroConfig(batch_size=1024, network=NetworkConfig(torso='resnet', **supports))
  if size == 'tiny':
    return MuZeroConfig(
        search=SearchConfig(num_simulations=8), envs_per_actor=2, variable_update_period=10,
        batch_size=8,
        max_replay_size=1_000, min_replay_size=32, samples_per_insert=1.0,
        network=NetworkConfig(torso='resnet', channels=4, num_blocks=0, downsample_channels=4,
                              downsample_blocks=(0, 0, 0), head_channels=2, head_hidden_size=8,
                              **supports))
  return MuZeroConfig(
      envs_per_actor=8, variable_update_period=10, batch_size=32, max_replay_size=20_000,
      min_replay_size=500, samples_per_insert=0.5,
      network=NetworkConfig(torso='resnet', channels=64, num_blocks=2, downsample_channels=32,
                            downsample_blocks=(1, 1, 1), head_channels=2, head_hidden_size=128,
                            **supports))


def _dirichlet_alpha(base_name: str, num_actions: int) -> float:
  """The paper's alpha for the game; Go scaled to its board (9x9: 0.03 * 362 / 82 = 0.13); 0.3
  (chess's) for other games."""
  if base_name == 'go':
    return _PAPER_DIRICHLET_ALPHA['go'] * _PAPER_GO_MOVES / num_actions
  return _PAPER_DIRICHLET_ALPHA.get(base_name, 0.3)


def board_game(game: str) -> MuZeroConfig:
  """The paper's board-game settings for an OpenSpiel game name, e.g. 'tic_tac_toe', 'chess'.

  Value targets are the final outcome (td_steps reaches the end of the game, discount 1), sampled
  uniformly (the paper prioritises only Atari), and values live in [-1, 1], so a 3-bin support
  of h(x) (h(1) is about 0.41) represents them exactly. Actions are sampled in proportion to
  visit counts for the first 30 moves, then the most visited (paper, after AlphaZero); Go,
  chess and shogi get the paper's 800 simulations and 16 blocks of 256 channels.

  Small games (tic_tac_toe, connect_four) get settings a 2-core machine learns them with, in
  the spirit of `cartpole()`: 25 or 50 simulations, towers of 2 blocks of 32 channels, Adam,
  batch 128 and a replay that samples from 500 sequences on; tic-tac-toe samples only its first
  3 moves and values unvisited children at their parent's value, with 8 samples per insert, a
  100k-sequence replay and its 8 board symmetries as data augmentation; connect four samples its
  first 10 moves, with 4 samples per insert, a 40k replay and its mirror image as data
  augmentation (`_SMALL_GAMES`). Their heads start
  with a 1x1 convolution to 32 channels, not AlphaZero's 2: on a 3x3 board, 2 channels leave the
  reward head 18 features, and a model trained on random tic-tac-toe games found 65% of winning
  moves after 2000 learner steps, against 84% with 32 channels (BENCHMARKS.md, "Board games").
  """
  # Imported here so that configs for other domains do not need OpenSpiel.
  from environments import openspiel  # pylint: disable=g-import-not-at-top
  loaded = openspiel.load_two_player_game(game)
  base_name = game.split('(')[0]
  max_moves = min(loaded.max_game_length(), _PAPER_MAX_MOVES)
  config = MuZeroConfig(
      discount=1.0,
      unroll_steps=5,
      td_steps=max_moves,
      search=SearchConfig(
          num_simulations=800,
          dirichlet_alpha=_dirichlet_alpha(base_name, loaded.num_distinct_actions()),
          value_bounds=(-1.0, 1.0)),
      temperature_schedule=((0, 1.0),),
      num_exploration_moves=30,
      batch_size=256,
      optimizer='sgd',
      learning_rate=0.01 if base_name == 'go' else 0.1,
      learning_rate_decay_steps=400_000,
      priority_exponent=0.0,
      importance_sampling_exponent=0.0,
      network=NetworkConfig(torso='board', value_support_size=3, reward_support_size=3,
                            channels=256, num_blocks=16, head_hidden_size=64))
  if base_name not in _SMALL_GAMES:
    return config
  (num_simulations, num_exploration_moves, unvisited_q, samples_per_insert,
   max_replay_size, board_symmetries) = _SMALL_GAMES[base_name]
  return dataclasses.replace(
      config, search=dataclasses.replace(config.search, num_simulations=num_simulations,
                                         unvisited_q=unvisited_q),
      num_exploration_moves=num_exploration_moves, envs_per_actor=16,
      variable_update_period=10, batch_size=128, optimizer='adam', learning_rate=3e-3,
      learning_rate_decay_steps=50_000, max_replay_size=max_replay_size, min_replay_size=500,
      samples_per_insert=samples_per_insert, num_parallel_calls=4,
      board_symmetries=board_symmetries,
      network=dataclasses.replace(config.network, channels=32, num_blocks=2, head_channels=32))


PRESETS = ('auto', 'cartpole', 'continuous_control', 'atari', 'board_game')


def preset(name: str, environment_id: str, atari_size: Optional[str] = None,
           continuous_actions: bool = False, two_player: bool = False) -> MuZeroConfig:
  """The preset `name` (one of PRESETS) for the environment `environment_id`.

  'auto' picks board_game for a two-player game (which the environment spec says,
  `environments.specs.is_two_player`, passed as `two_player`), atari for 'atari:' ids,
  continuous_control (Sampled MuZero) when the actions are continuous, and cartpole, a small MLP
  on the flattened observation, for other 'gym:' and 'python:' ids. `atari_size` (one of
  ATARI_SIZES, default the first) picks the atari preset's size and is refused with any other.

  Raises:
    ValueError: an unknown preset or size, or a preset that cannot serve the environment.
  """
  if name not in PRESETS:
    raise ValueError(f'--config={name!r} is not allowed; allowed: {", ".join(PRESETS)}.')
  prefix, _, game = environment_id.partition(':')
  if name == 'auto':
    name = 'board_game' if two_player else {'atari': 'atari'}.get(
        prefix, 'continuous_control' if continuous_actions else 'cartpole')
  if atari_size is not None and name != 'atari':
    raise ValueError(f'--atari_size={atari_size!r} applies to the atari preset only, not to '
                     f'--config={name} (for --env={environment_id!r}).')
  if name == 'board_game':
    if prefix != 'openspiel':
      raise ValueError(f'--config=board_game needs an openspiel:... --env (the preset reads the '
                       f'game\'s length and moves from OpenSpiel), not {environment_id!r}.')
    return board_game(game)
  if name == 'atari':
    if prefix != 'atari':
      raise ValueError(f'--config=atari needs an atari:... --env (any ALE game, e.g. atari:Pong), '
                       f'not {environment_id!r}.')
    try:
      return atari(atari_size or ATARI_SIZES[0])
    except ValueError as error:
      raise ValueError(f'--atari_size: {error}') from error
  return continuous_control() if name == 'continuous_control' else cartpole()


# The nested configs, by the name of their MuZeroConfig field.
_NESTED = {'search': SearchConfig, 'network': NetworkConfig}


def _resolve(name: str) -> Tuple[Optional[str], dataclasses.Field]:
  """(nested config or None, field) that an override name sets; see `with_overrides`."""
  section, dot, field = name.rpartition('.')
  if dot and section in _NESTED:
    fields = {f.name: f for f in dataclasses.fields(_NESTED[section])}
  elif dot:
    fields, section = {}, None
  else:
    top = {f.name: f for f in dataclasses.fields(MuZeroConfig)}
    section, fields = (None, top) if field in top else ('search', {
        f.name: f for f in dataclasses.fields(SearchConfig)})
  if section == 'search' and field in AGENT_SET_SEARCH_FIELDS:
    raise ValueError(f'config override {name!r} is not allowed: the agent sets search.{field} '
                     f'for every search from {AGENT_SET_SEARCH_FIELDS[field]}.')
  if field not in fields:
    top_names = sorted(f.name for f in dataclasses.fields(MuZeroConfig))
    search_names = sorted(f.name for f in dataclasses.fields(SearchConfig)
                          if f.name not in AGENT_SET_SEARCH_FIELDS)
    network_names = sorted(f.name for f in dataclasses.fields(NetworkConfig))
    raise ValueError(f'config override {name!r} names no field; allowed: {top_names}; search '
                     f'fields as <name> or search.<name>: {search_names}; network fields as '
                     f'network.<name>: {network_names}.')
  return section, fields[field]


def _parse(overrides: str) -> List[Tuple[str, str]]:
  """'name=value,name=value' -> [(name, value text)]; a comma inside a tuple value is kept
  (split on commas before a 'name=')."""
  if not overrides.strip():
    return []
  parsed = []
  for part in re.split(r',\s*(?=[A-Za-z_][\w.]*\s*=)', overrides.strip()):
    name, separator, text = part.partition('=')
    if not separator:
      raise ValueError(f'config override {part!r} is not allowed; allowed: field=value.')
    parsed.append((name.strip(), text.strip()))
  return parsed


def _literal(name: str, field: dataclasses.Field, text: str):
  """The value of `text` (a Python literal; a text field also takes a bare word as itself)."""
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError) as error:
    # A text field takes a bare word as itself (search_policy=gumbel), so that shells need
    # no nested quotes; validation then names the allowed words.
    if field.type is not str or not re.fullmatch(r'[A-Za-z_]\w*', text):
      raise ValueError(f'config override {name}={text!r}: the value is not a Python '
                       f'literal ({error}).') from error
    return text


def with_overrides(config: MuZeroConfig, overrides: str = '', **values) -> MuZeroConfig:
  """`config` with fields set by name, validated.

  One rule for names: a MuZeroConfig field by its name (`td_steps`, or `search` and `network`
  for whole nested configs, applied first); a field of a nested config as `search.<field>` or
  `network.<field>`; and a search field by its bare name too (`num_simulations`,
  `search_policy`: the names from before the search settings were nested), since no
  MuZeroConfig field shares one but `discount`, which is MuZeroConfig's (`search.discount` is
  set by the agent, as are the other `AGENT_SET_SEARCH_FIELDS`). An unknown name is an error
  that lists the allowed ones.

  Args:
    config: the config to start from (a preset).
    overrides: 'name=value,name=value' with values as Python literals, for experiments from the
      command line (`launch.local --config_overrides`, the learning benchmarks), so that a
      variant of a preset needs no code; a comma inside a tuple value is kept. Text fields also
      take a bare word: 'search_policy=gumbel' is 'search_policy="gumbel"'.
    **values: the same names as keywords, with Python values (dotted names through
      `**{'network.latent_size': 16}`); applied after `overrides`.
  """
  top, nested = {}, {section: {} for section in _NESTED}
  assignments = [(name, text, True) for name, text in _parse(overrides)]
  assignments += [(name, value, False) for name, value in values.items()]
  for name, value, is_text in assignments:
    section, field = _resolve(name)
    if is_text:
      value = _literal(name, field, value)
    (top if section is None else nested[section])[field.name] = value
  config = dataclasses.replace(config, **top)
  return dataclasses.replace(config, **{
      section: dataclasses.replace(getattr(config, section), **fields)
      for section, fields in nested.items() if fields}).validate()
