"""MuZero as an Acme agent: config, actor, learner, builder and a single-process agent."""

from agents.muzero.actor import BatchedEnvironmentLoop
from agents.muzero.actor import MuZeroActor
from agents.muzero.replay import ReplayWriter
from agents.muzero.agent import MuZero
from agents.muzero.builder import MuZeroBuilder
from agents.muzero.config import atari
from agents.muzero.config import board_game
from agents.muzero.config import cartpole
from agents.muzero.config import MuZeroConfig
from agents.muzero.learning import MuZeroLearner
