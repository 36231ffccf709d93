"""The distributed MuZero program: every node group and its arguments, in one place.

    replay (Reverb) <- actors x N (B environments each) ; learner -> variable_server -> actors
    replay <-> reanalyzers x M <- variable_server (with reanalyze_fraction > 0)
    counter <- actors, reanalyzers, learner ; evaluator <- variable_server ; monitor <- everything

The nodes are built from the same `MuZeroBuilder` as the single-process agent; only the replay
table's rate limiter differs (`SampleToInsertRatio` here, so that actors and learner keep the
configured ratio of sampled to inserted sequences).
"""

import dataclasses
import datetime
import functools
import os
from typing import Optional

import dm_env
import launchpad as lp
from acme import specs

from agents.muzero import builder as builder_lib
from agents.muzero import config as config_lib
from environments import make_environment
from launch import actor_node
from launch import counter_node
from launch import evaluator_node
from launch import learner_node
from launch import monitor as monitor_lib
from launch import node_common
from launch import reanalyzer_node
from launch import replay_node
from launch import variable_server as variable_server_lib

# Seconds the monitor waits on one call to the learner before calling it unresponsive.
LEARNER_CALL_TIMEOUT_S = 300
# Seconds a node waits on one call to the counter or, from the learner, the variable server.
SERVICE_CALL_TIMEOUT_S = 30


def fail_fast_handle(node: lp.CourierNode, timeout_s: float = SERVICE_CALL_TIMEOUT_S):
  """A handle whose calls fail at once when the node is down, instead of waiting for it forever.

  Courier clients wait for a server to come (back) by default; at stop, the counter and variable
  server shut down while actors and learner may still call them, and such a call would never
  return, so the caller would never see the stop. These services start before anything calls them.
  """
  handle = node.create_handle()
  handle.set_client_kwargs(call_timeout=datetime.timedelta(seconds=timeout_s), wait_for_ready=False)
  return handle


@dataclasses.dataclass(frozen=True)
class EnvironmentFactory:
  """A picklable `seed -> dm_env.Environment` for an environment id."""
  environment_id: str

  def __call__(self, seed: int) -> dm_env.Environment:
    return make_environment(self.environment_id, seed=seed)


@dataclasses.dataclass(frozen=True)
class RunSettings:
  """How many of each node, where the run lives and when it stops.

  Attributes:
    run_dir: holds checkpoints (learner, counter, replay), logs, TensorBoard events, status.json.
    num_actors: N actor nodes.
    num_reanalyzers: M reanalyzer nodes (`launch.reanalyzer_node`); needed, at least one, exactly
      when the config's reanalyze_fraction is > 0 (the learner waits for reanalysed items).
    resume: restore learner, counter and replay from `run_dir` instead of starting afresh.
    seed: actor i seeds its environments and search from `worker_seed(seed, i)`.
    stopping_rule: when the monitor ends the run.
    publish_period: learner steps between two weight publications to the variable server.
    learner_checkpoint_period_s: seconds between two periodic checkpoints of the learner (the
      counter is saved with each, see `launch.learner_node.LearnerNode`).
    replay_checkpoint_period_s: seconds between two periodic checkpoints of the replay (the
      counter is saved before each, see `launch.monitor.MonitorNode`). After a hard kill, a
      resumed run has lost at most one period of learner steps and of replay items.
    status_period_s: seconds between two rewrites of status.json.
    eval_episodes: greedy episodes per evaluation (played in parallel, one environment each); for
      board games, games against a uniformly random player, half as each side.
    eval_period_s: seconds between two evaluations.
    eval_opponent: the board games' evaluation opponent, one of `environments.opponents.OPPONENTS`
      ('minimax' never loses at small games, so an evaluation return of 0 means unbeaten);
      ignored by single-player environments.
    actor_threads: TensorFlow threads of each actor, reanalyzer and of the evaluator.
    learner_threads: TensorFlow threads of the learner (intra- and inter-op pools); None keeps
      TensorFlow's default (one per core). On a small machine the learner shares the cores with
      everything else, and its small ops gain nothing from a second thread but the pool's
      synchronisation (`bench.learner`: 36.6 learner steps/s with one thread, 31.1 with two).
    replay_with_learner: run the replay and the learner as two threads of one process, group
      'learner' (`launch.node_common.ReplayWithLearner`: the learner then samples the table in
      memory, not through gRPC). For launches on one machine; a cluster gives the replay a
      machine of its own (`launch.resources`).
  """
  run_dir: str
  num_actors: int = 2
  num_reanalyzers: int = 0
  resume: bool = False
  seed: int = 0
  stopping_rule: monitor_lib.StoppingRule = monitor_lib.StoppingRule()
  publish_period: int = 10
  learner_checkpoint_period_s: float = 300.0
  replay_checkpoint_period_s: float = 300.0
  status_period_s: float = 2.0
  eval_episodes: int = 10
  eval_period_s: float = 20.0
  eval_opponent: str = 'random'
  actor_threads: int = 1
  learner_threads: Optional[int] = None
  replay_with_learner: bool = False


def worker_seed(seed: int, worker_index: int) -> int:
  """The seed of worker `worker_index` (the N actors, then the reanalyzers): seed + 1000 (i + 1),
  from which an actor seeds its environments (`actor_node.actor_environment_seeds`) and its
  search."""
  return seed + 1000 * (worker_index + 1)


def make_program(config: config_lib.MuZeroConfig, environment_factory, settings: RunSettings,
                 environment_spec: Optional[specs.EnvironmentSpec] = None) -> lp.Program:
  """Builds the Launchpad program; `environment_factory(seed)` must be picklable."""
  config = config.validate()
  if config.reanalyze != (settings.num_reanalyzers > 0):
    raise ValueError(f'num_reanalyzers={settings.num_reanalyzers} does not fit '
                     f'reanalyze_fraction={config.reanalyze_fraction}: reanalysed items need '
                     'reanalyzers, and reanalyzers need a share of the batch.')
  environment_spec = environment_spec or specs.make_environment_spec(environment_factory(settings.seed))
  builder = builder_lib.MuZeroBuilder(config, environment_spec)
  run_dir = os.path.abspath(settings.run_dir)
  os.makedirs(run_dir, exist_ok=True)
  program = lp.Program(name='muzero')

  replay_server = replay_node.ReplayNode(
      functools.partial(builder.make_replay_tables, single_process=False), run_dir, builder.table)
  replay = replay_server.create_handle()
  if not settings.replay_with_learner:
    with program.group('replay'):
      program.add_node(replay_server)
  with program.group('counter'):
    counter = lp.CourierNode(counter_node.CounterNode, run_dir)
    program.add_node(counter)
  with program.group('variable_server'):
    variable_server_node = lp.CourierNode(variable_server_lib.VariableServer)
    variable_server = program.add_node(variable_server_node)
  learner = lp.CourierNode(
      learner_node.LearnerNode, config, environment_spec, replay, fail_fast_handle(variable_server_node),
      fail_fast_handle(counter), run_dir, settings.resume, settings.publish_period,
      settings.learner_checkpoint_period_s, settings.learner_threads)
  with program.group('learner'):
    program.add_node(node_common.ReplayWithLearner(replay_server, learner)
                     if settings.replay_with_learner else learner)
  with program.group('actor'):
    # Actors wait for the first weights however long the learner takes to start.
    actors = [lp.CourierNode(
        actor_node.ActorNode, actor_id, config, environment_spec, environment_factory, replay,
        variable_server, fail_fast_handle(counter), run_dir,
        worker_seed(settings.seed, actor_id), settings.actor_threads)
              for actor_id in range(settings.num_actors)]
    for actor in actors:
      program.add_node(actor)
  reanalyzers = [lp.CourierNode(
      reanalyzer_node.ReanalyzerNode, reanalyzer_id, config, environment_spec, replay,
      variable_server, fail_fast_handle(counter),
      worker_seed(settings.seed, settings.num_actors + reanalyzer_id), settings.actor_threads)
                 for reanalyzer_id in range(settings.num_reanalyzers)]
  if reanalyzers:
    with program.group('reanalyzer'):
      for reanalyzer in reanalyzers:
        program.add_node(reanalyzer)
  with program.group('evaluator'):
    evaluator = lp.CourierNode(
        evaluator_node.EvaluatorNode, config, environment_spec, environment_factory, variable_server,
        run_dir, settings.seed, settings.eval_episodes, settings.eval_period_s,
        settings.actor_threads, settings.eval_opponent)
    program.add_node(evaluator)
  with program.group('monitor'):
    # Every handle of the monitor fails fast, so that a dead node is seen at the next poll.
    program.add_node(lp.CourierNode(
        monitor_lib.MonitorNode, run_dir, builder.table, settings.stopping_rule, replay,
        fail_fast_handle(counter), fail_fast_handle(variable_server_node),
        fail_fast_handle(learner, LEARNER_CALL_TIMEOUT_S), fail_fast_handle(evaluator),
        [fail_fast_handle(actor) for actor in actors], settings.status_period_s,
        settings.replay_checkpoint_period_s,
        reanalyzers=[fail_fast_handle(reanalyzer) for reanalyzer in reanalyzers],
        replay_with_learner=settings.replay_with_learner))
  return program
