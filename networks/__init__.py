"""MuZero's representation, dynamics and prediction networks (DESIGN.md section 3)."""

from networks.base import NetworkOutput
from networks.config import NetworkConfig
from networks.muzero import make_network
from networks.muzero import MuZeroNetwork
