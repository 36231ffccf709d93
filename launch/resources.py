"""Where each node group runs: local processes, and machines of a Vertex AI cluster.

Actors, the evaluator and the replay never use an accelerator: locally their processes get
`CUDA_VISIBLE_DEVICES=''` so that TensorFlow in them does not grab the GPU the learner needs. The
learner gets the accelerator when there is one and the CPU otherwise, through TensorFlow's device
placement (`agents.muzero.learning.default_device`), with the same code.

The learner's process also gets TensorFlow's oneDNN kernels (`TF_ENABLE_ONEDNN_OPTS=1`), which
TensorFlow 2.8 leaves off on Linux and turns on by default from 2.9: the board presets' learner
steps take 0.57-0.66x the time with them (convolutions), CartPole's and the actor's are unchanged
(BENCHMARKS.md, "oneDNN for the learner"). The variable is read once, when TensorFlow loads, so
it is set in the process's environment; a value the user exported is kept.

A local launch on a machine with more CPUs than the learner's threads gives the learner's process
CPUs of its own and every other process the rest (`learner_cpu_partition`, `pin_process`): left
to the scheduler, the learner's threads hop between cores shared with the actors' searches, and
its step took 1.5x the CPU time it takes on a core of its own (tic-tac-toe's preset on 2 cores,
BENCHMARKS.md, "A core of its own for the learner").
"""

import dataclasses
import os
from typing import Dict, Optional, Sequence, Tuple

GROUPS = ('replay', 'counter', 'variable_server', 'learner', 'actor', 'evaluator', 'monitor')
CPU_ONLY_GROUPS = ('replay', 'counter', 'variable_server', 'actor', 'evaluator', 'monitor')


ONEDNN_VARIABLE = 'TF_ENABLE_ONEDNN_OPTS'


def local_resources() -> Dict[str, object]:
  """Launchpad `local_resources` for local_mp: hide accelerators from every group but the learner,
  and give the learner oneDNN unless the environment already says otherwise."""
  from launchpad.nodes.python import local_multi_processing  # pylint: disable=g-import-not-at-top
  processes = {group: local_multi_processing.PythonProcess(env={'CUDA_VISIBLE_DEVICES': ''})
               for group in CPU_ONLY_GROUPS}
  processes['learner'] = local_multi_processing.PythonProcess(
      env={ONEDNN_VARIABLE: os.environ.get(ONEDNN_VARIABLE, '1')})
  return processes


def learner_cpu_partition(learner_threads: Optional[int]
                          ) -> Optional[Tuple[Tuple[int, ...], Tuple[int, ...]]]:
  """(the learner's CPUs, every other process's CPUs) of a local launch: the last
  `learner_threads` of the CPUs this process may run on, and the others.

  None (no pinning) when `learner_threads` is None (TensorFlow's default of a thread per core),
  when the learner would take every CPU, or where the system has no CPU affinity (not Linux).
  """
  if learner_threads is None or not hasattr(os, 'sched_getaffinity'):
    return None
  cpus = sorted(os.sched_getaffinity(0))
  if learner_threads >= len(cpus):
    return None
  return tuple(cpus[-learner_threads:]), tuple(cpus[:-learner_threads])


def pin_process(cpus: Sequence[int]) -> None:
  """Restricts every thread of this process to `cpus`, and so the threads they start later.

  Linux sets affinity per thread, and a new thread inherits its creator's: threads that exist
  already (TensorFlow's and Reverb's pools, gRPC's) are each set, until no new one appears.
  """
  pinned = set()
  while True:
    threads = {int(name) for name in os.listdir('/proc/self/task')} - pinned
    if not threads:
      return
    for thread in threads:
      try:
        os.sched_setaffinity(thread, cpus)
      except ProcessLookupError:
        pass  # The thread ended meanwhile.
    pinned |= threads


@dataclasses.dataclass(frozen=True)
class MachineSpec:
  """One node group's machine on the cluster (what `xm.JobRequirements` is made from)."""
  cpu: int
  memory_gib: int
  accelerator: Optional[str] = None
  accelerator_count: int = 0

  def job_requirements_kwargs(self) -> Dict[str, object]:
    kwargs = {'cpu': self.cpu, 'ram': self.memory_gib * 2**30}
    if self.accelerator:
      kwargs[self.accelerator] = self.accelerator_count
    return kwargs


def vertex_ai_machines(accelerator: str = 'T4', accelerator_count: int = 1, actor_cpus: int = 8,
                       replay_memory_gib: int = 64) -> Dict[str, MachineSpec]:
  """Per-group machines: the learner on an accelerator, actors on CPU machines, replay with memory."""
  if accelerator_count < 1:
    raise ValueError(f'accelerator_count={accelerator_count} is not allowed; it must be >= 1.')
  if actor_cpus < 1 or replay_memory_gib < 1:
    raise ValueError(f'actor_cpus={actor_cpus} and replay_memory_gib={replay_memory_gib} must be >= 1.')
  small = MachineSpec(cpu=2, memory_gib=8)
  return {
      'learner': MachineSpec(cpu=8, memory_gib=32, accelerator=accelerator,
                             accelerator_count=accelerator_count),
      'actor': MachineSpec(cpu=actor_cpus, memory_gib=max(8, actor_cpus * 2)),
      'evaluator': MachineSpec(cpu=4, memory_gib=8),
      'replay': MachineSpec(cpu=4, memory_gib=replay_memory_gib),
      'counter': small, 'variable_server': small, 'monitor': small,
  }


def vertex_ai_resources(machines: Dict[str, MachineSpec], code_directory: str,
                        requirements_file: str) -> Dict[str, object]:
  """`xm_resources` for `lp.launch(..., launch_type='vertex_ai')`: one `lp.DockerConfig` per group.

  Needs `pip install xmanager` (and Docker and a GCP project; see WORKSPACE.md); without it the
  error says so.
  """
  missing = sorted(set(GROUPS) - set(machines))
  if missing:
    raise ValueError(f'no machine given for node group(s) {missing}; every group of {GROUPS} needs one.')
  for path in (code_directory, requirements_file):
    if not os.path.exists(path):
      raise ValueError(f'{path!r} does not exist; vertex_ai needs the code directory and requirements.txt.')
  try:
    import launchpad as lp  # pylint: disable=g-import-not-at-top
    from xmanager import xm  # pylint: disable=g-import-not-at-top
  except ImportError as error:
    raise RuntimeError('launch_type=vertex_ai needs xmanager: `pip install xmanager`, Docker, and '
                       'a GCP project (see WORKSPACE.md, "Cloud cluster").') from error
  return {group: lp.DockerConfig(code_directory, requirements_file,
                                 xm.JobRequirements(**machine.job_requirements_kwargs()))
          for group, machine in machines.items()}
