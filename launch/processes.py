"""The processes of a local_mp run's nodes, for fault injection (tests, `bench.chaos`) and diagnosis.

Launchpad 0.5 starts every node as `process_entry.py --data_file ...`, which does not say which
node it is, but local_mp sends each node's output to RUN_DIR/logs/processes/<group>/<index>, so
a node is the process whose standard output is that file.
"""

import os
from typing import Dict, Tuple


def node_processes(run_dir: str) -> Dict[Tuple[str, int], int]:
  """{(group, index): pid} of the running nodes of the local_mp run in `run_dir`, e.g.
  {('learner', 0): 4242, ('actor', 1): 4250, ...}."""
  logs = os.path.join(os.path.abspath(run_dir), 'logs', 'processes')
  found = {}
  for name in os.listdir('/proc'):
    if not name.isdigit():
      continue
    try:
      output = os.readlink(f'/proc/{name}/fd/1')
    except OSError:
      continue  # Gone meanwhile, or not ours.
    group_directory, index = os.path.split(output)
    if os.path.dirname(group_directory) == logs and index.isdigit():
      found[(os.path.basename(group_directory), int(index))] = int(name)
  return found
