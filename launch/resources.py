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
"""

import dataclasses
import os
from typing import Dict, Optional

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
