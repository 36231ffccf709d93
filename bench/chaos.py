"""Chaos run: kill -9 random nodes of a local_mp run at random times, resume, count what was lost.

    OMP_NUM_THREADS=1 python -m bench.chaos --seed=0 --duration_s=1200

Runs `launch.local` on CartPole (small: 2 actors x 4 environments, 8 simulations) with both
checkpoint periods at `--checkpoint_period_s`, and every `--min_gap_s`..`--max_gap_s` seconds of
learning (drawn with `--seed`) kills one of: an actor (the run must go on, one actor fewer
alive; not drawn while only one is left), the learner's process (which holds the replay too,
`launch.node_common.ReplayWithLearner`; the program must stop by itself, naming the learner; `stop_s` is the time from the kill to the launcher's exit, target 30 s),
or the whole process group. After a stop it resumes the run directory and waits for the learner
to step again. Each row: the learner checkpoint's and the replay checkpoint's age at the kill,
learner steps, replay items and env steps lost (the last status.json before the program ended
minus what the resumed run restored), and whether the resume started from the learner checkpoint
on disk. What may be lost is at most one checkpoint period (README, "Hard kills"): a lost count
is bounded by the checkpoint's age at the kill. After `--duration_s` the run is stopped with
SIGTERM (Ctrl-C's path) and its final state printed.
"""

import dataclasses
import json
import os
import random
import signal
import tempfile
import time
from typing import List, Optional

from absl import app
from absl import flags

from bench import harness
from launch import counter_node
from launch import learner_node
from launch import processes
from launch import replay_node
from launch import status as status_lib

KINDS = ('actor', 'learner', 'group')
# A run stopped by the monitor: it saw the dead node within 10 s and the nodes had a 10 s notice.
STOP_TARGET_S = 30.0


def define_flags() -> None:
  """The command line of `python -m bench.chaos`."""
  flags.DEFINE_integer('seed', 0, 'Seed of the kill times and kinds.')
  flags.DEFINE_float('duration_s', 1200.0, 'Seconds of chaos before the final stop.')
  flags.DEFINE_float('min_gap_s', 20.0, 'Fewest seconds of learning before a kill.')
  flags.DEFINE_float('max_gap_s', 60.0, 'Most seconds of learning before a kill.')
  flags.DEFINE_float('checkpoint_period_s', 30.0, 'Learner and replay checkpoint periods of the '
                     'run.')
  flags.DEFINE_integer('num_actors', 2, 'Actor nodes.')
  flags.DEFINE_list('kinds', list(KINDS), 'What may be killed.')
  flags.DEFINE_string('run_dir', None, 'Run directory (default: a new temporary one).')
  flags.DEFINE_float('timeout_s', 600.0, 'Most seconds to wait for a start or a stop.')


@dataclasses.dataclass
class Kill:
  """One kill and what followed; None where it does not apply (e.g. nothing lost by an actor)."""
  at_s: float
  kind: str
  learner_checkpoint_age_s: Optional[float]
  replay_checkpoint_age_s: Optional[float]
  stop_s: Optional[float] = None
  reason: str = ''
  resumed_from_step: Optional[int] = None
  resumed_from_checkpoint: Optional[bool] = None
  learner_steps_lost: Optional[int] = None
  replay_items_lost: Optional[int] = None
  env_steps_lost: Optional[int] = None


def _age_s(path: Optional[str]) -> Optional[float]:
  return None if path is None or not os.path.exists(path) else time.time() - os.path.getmtime(path)


def _run_flags() -> List[str]:
  return ['--env=gym:CartPole-v1', '--launch_type=local_mp',
          f'--num_actors={flags.FLAGS.num_actors}',
          '--envs_per_actor=4', '--num_simulations=8', '--eval_episodes=2', '--eval_period_s=10',
          f'--learner_checkpoint_period_s={flags.FLAGS.checkpoint_period_s}',
          f'--replay_checkpoint_period_s={flags.FLAGS.checkpoint_period_s}',
          '--lp_termination_notice_secs=10', '--max_seconds=86400']


class Chaos:
  """The run under chaos: its current launch and the kills so far."""

  def __init__(self, run_dir: str, seed: int):
    self.run_dir = run_dir
    self.rng = random.Random(seed)
    self.kills: List[Kill] = []
    self.resumes = 0
    self.failed_resumes = 0
    self.run = self._launch(resume=False)

  def _launch(self, resume: bool) -> processes.LocalRun:
    launches = self.resumes + 1
    output = os.path.join(self.run_dir + '-launches', f'{launches:03d}.out')
    os.makedirs(os.path.dirname(output), exist_ok=True)
    flags_ = _run_flags() + (['--resume'] if resume else [])
    run = processes.LocalRun(self.run_dir, flags_, output)
    # Learning again: the learner answers and has stepped since this launch's start.
    run.wait_for(lambda status: status.state == 'running' and status.learner_steps > (
        status.resumed_from_step or 0), 'learner steps', flags.FLAGS.timeout_s)
    return run

  def _checkpoint_ages(self):
    learner = _age_s(os.path.join(self.run_dir, 'learner', 'checkpoint'))
    replay, _ = replay_node.replay_checkpoints(os.path.join(self.run_dir, 'replay'))
    return learner, _age_s(None if replay is None
                           else os.path.join(replay, replay_node.REVERB_DONE_FILE))

  def _kill_actor(self, kill: Kill, before: status_lib.Status) -> None:
    running = [index for group, index in processes.node_processes(self.run_dir) if group == 'actor']
    self.run.kill_node('actor', self.rng.choice(running))
    status = self.run.wait_for(lambda status: status.actors_alive < before.actors_alive,
                               'one actor fewer alive', flags.FLAGS.timeout_s)
    self.run.wait_for(lambda later: later.learner_steps > status.learner_steps + 10,
                      'learner steps after the actor kill', flags.FLAGS.timeout_s)
    kill.reason = f'goes on, actors {status.actors_alive}/{status.num_actors} alive'

  def _kill_and_resume(self, kill: Kill) -> None:
    started = time.time()
    if kill.kind == 'group':
      self.run.kill()
    else:
      self.run.kill_node(kill.kind)
      self.run.wait_for_exit(flags.FLAGS.timeout_s)
      kill.stop_s = time.time() - started
    last = self.run.status()  # The last status.json of the launch: at most 2 s old at the end.
    kill.reason = last.reason if kill.kind != 'group' else 'killed'
    checkpoint_step = learner_node.learner_checkpoint_step(self.run_dir) or 0
    counts = counter_node.saved_counts(self.run_dir)
    self.resumes += 1
    try:
      self.run = self._launch(resume=True)
    except RuntimeError as error:
      self.failed_resumes += 1
      raise RuntimeError(f'resume {self.resumes} failed after {kill.kind} kill') from error
    status = self.run.status()
    with open(os.path.join(self.run_dir, replay_node.REPLAY_RESTORED_FILE)) as file:
      restored = json.load(file)
    kill.resumed_from_step = status.resumed_from_step
    # No checkpoint yet (a kill within the first period): the learner starts afresh.
    kill.resumed_from_checkpoint = (status.resumed_from_step or 0) == checkpoint_step
    kill.learner_steps_lost = last.learner_steps - (status.resumed_from_step or 0)
    kill.replay_items_lost = last.replay_size - restored['size']
    kill.env_steps_lost = last.env_steps - int(counts.get('actor_steps', 0))

  def kill_one(self, at_s: float) -> Kill:
    before = self.run.status()
    kinds = [kind for kind in flags.FLAGS.kinds if kind != 'actor' or before.actors_alive > 1]
    kind = self.rng.choice(kinds)
    kill = Kill(at_s, kind, *self._checkpoint_ages())
    if kind == 'actor':
      self._kill_actor(kill, before)
    else:
      self._kill_and_resume(kill)
    self.kills.append(kill)
    return kill

  def stop(self) -> status_lib.Status:
    """Stops the run as Ctrl-C would; returns its final status."""
    os.kill(self.run.process.pid, signal.SIGTERM)
    self.run.wait_for_exit(flags.FLAGS.timeout_s)
    return self.run.status()


def _cell(value) -> str:
  if value is None:
    return '-'
  if isinstance(value, float):
    return f'{value:.1f}'
  return str(value)


def print_table(chaos: Chaos, final: status_lib.Status, command: str) -> None:
  print(f'\n{command}\n')
  print('| # | at s | kill | learner ckpt age s | replay ckpt age s | stop s | what followed | '
        'resumed from step | from the checkpoint on disk | learner steps lost | replay items lost | '
        'env steps lost |')
  print('|' + '---|' * 12)
  for number, kill in enumerate(chaos.kills, 1):
    print('| ' + ' | '.join(_cell(value) for value in (
        number, kill.at_s, kill.kind, kill.learner_checkpoint_age_s, kill.replay_checkpoint_age_s,
        kill.stop_s, kill.reason[:70], kill.resumed_from_step, kill.resumed_from_checkpoint,
        kill.learner_steps_lost, kill.replay_items_lost, kill.env_steps_lost)) + ' |')
  stops = [kill.stop_s for kill in chaos.kills if kill.stop_s is not None]
  lost = [kill for kill in chaos.kills if kill.learner_steps_lost is not None]
  print(f'\nkills {len(chaos.kills)} ({", ".join(f"{kind} {sum(k.kind == kind for k in chaos.kills)}" for kind in KINDS)}); '
        f'resumes {chaos.resumes}, failed {chaos.failed_resumes}, from the checkpoint on disk '
        f'{sum(bool(kill.resumed_from_checkpoint) for kill in lost)}/{len(lost)}; '
        f'stop after a learner kill: max {max(stops, default=0):.1f} s (target {STOP_TARGET_S:g} s); '
        f'max lost: {max((k.learner_steps_lost for k in lost), default=0)} learner steps, '
        f'{max((k.replay_items_lost for k in lost), default=0)} replay items, '
        f'{max((k.env_steps_lost for k in lost), default=0)} env steps; max checkpoint age at a kill: '
        f'learner {max((k.learner_checkpoint_age_s or 0 for k in chaos.kills), default=0):.1f} s, '
        f'replay {max((k.replay_checkpoint_age_s or 0 for k in chaos.kills), default=0):.1f} s '
        f'(period {flags.FLAGS.checkpoint_period_s:g} s)')
  print(f'final state: {final.state} ({final.reason}); {final.learner_steps:,} learner steps, '
        f'{final.env_steps:,} env steps, replay {final.replay_size:,} items, actors '
        f'{final.actors_alive}/{final.num_actors} alive, last evaluation return {final.last_eval_return}')


def main(args) -> None:
  for kind in args.kinds:
    if kind not in KINDS:
      raise app.UsageError(f'--kinds: {kind!r} is not allowed; allowed: {", ".join(KINDS)}.')
  if not 0 < args.min_gap_s <= args.max_gap_s:
    raise app.UsageError(f'--min_gap_s={args.min_gap_s:g} and --max_gap_s={args.max_gap_s:g} '
                         'must satisfy 0 < min <= max.')
  run_dir = args.run_dir or os.path.join(tempfile.mkdtemp(prefix='bench-chaos-'), 'run')
  command = ' '.join(['python -m bench.chaos', f'--seed={args.seed}',
                      f'--duration_s={args.duration_s:g}', f'--min_gap_s={args.min_gap_s:g}',
                      f'--max_gap_s={args.max_gap_s:g}',
                      f'--checkpoint_period_s={args.checkpoint_period_s:g}',
                      f'--num_actors={args.num_actors}', f'--kinds={",".join(args.kinds)}'])
  print(f'{command}\nrun_dir {run_dir}', flush=True)
  started = time.time()
  chaos = Chaos(run_dir, args.seed)
  try:
    while time.time() - started < args.duration_s:
      time.sleep(chaos.rng.uniform(args.min_gap_s, args.max_gap_s))
      kill = chaos.kill_one(time.time() - started)
      print(f'[{kill.at_s:6.0f}s] {kill.kind}: {kill.reason}; stop {_cell(kill.stop_s)} s; resumed '
            f'from {_cell(kill.resumed_from_step)}; lost: learner {_cell(kill.learner_steps_lost)}, '
            f'replay {_cell(kill.replay_items_lost)}, env {_cell(kill.env_steps_lost)}', flush=True)
  except RuntimeError as error:
    # The table still shows every kill before the one that went wrong.
    print(f'chaos stopped early: {error}', flush=True)
  print_table(chaos, chaos.stop(), command)


if __name__ == '__main__':
  harness.run(define_flags, main)
