"""The one dataclass that sizes a MuZero network."""

import dataclasses
from typing import Tuple

import validation

TORSOS = ('auto', 'mlp', 'resnet', 'board')


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
  """Sizes of the representation, dynamics and prediction functions.

  Defaults are the paper's Atari network (Appendix F) except `latent_size`, `mlp_width` and
  `mlp_num_blocks`, which only the vector torso uses and which default to a CartPole-size network.
  Smaller domains shrink `channels` and `num_blocks`; tests use tiny values everywhere.

  Attributes:
    torso: which torso family to build. 'auto' picks from the observation spec (see
      `networks.observations.infer_torso`): rank-1 and rank-2 vectors -> 'mlp' (flattened);
      rank-3 uint8 images -> 'resnet' (the paper's down-sampling ResNet); other rank-3 inputs
      and board-game dicts -> 'board' (a residual conv torso that keeps the board's height and
      width).
    value_support_size: number of value bins, 2S + 1 for the integers -S..S of h(value); the
      paper uses 601 for Atari, 21 to 41 fit CartPole.
    reward_support_size: number of reward bins, 2S + 1 as for the value.
    latent_size: width of the latent state of the 'mlp' torso.
    mlp_width: hidden width of every 'mlp' function.
    mlp_num_blocks: residual blocks per 'mlp' function after its first hidden layer; 0 leaves one
      hidden layer of `mlp_width` per function.
    channels: channels of the latent state and of the residual towers of the 'resnet' and 'board'
      torsos (paper: 256).
    num_blocks: residual blocks in the representation tower and in the dynamics tower of the
      'resnet' and 'board' torsos (paper: 16).
    prediction_num_blocks: residual blocks in the prediction function before its heads for
      'resnet' and 'board' (the paper's prediction is only the AlphaZero heads: 0).
    downsample_channels: channels of the first, 48x48 stage of the 'resnet' down-sampling (paper:
      128); its later stages use `channels`.
    downsample_blocks: residual blocks after the first stride-2 convolution, after the second and
      after the first average pooling of the 'resnet' down-sampling (paper: 2, 3, 3).
    head_channels: channels of the 1x1 convolution that starts each 'resnet' and 'board' head.
    head_hidden_size: hidden width of the value and reward heads of 'resnet' and 'board'.

  Past actions (the paper feeds Atari's 32 as planes a / A) are not sized here: they come with
  the observation, whose spec says how many (see `networks.observations`).
  """
  torso: str = 'auto'
  value_support_size: int = 601
  reward_support_size: int = 601
  latent_size: int = 64
  mlp_width: int = 64
  mlp_num_blocks: int = 0
  channels: int = 256
  num_blocks: int = 16
  prediction_num_blocks: int = 0
  downsample_channels: int = 128
  downsample_blocks: Tuple[int, int, int] = (2, 3, 3)
  head_channels: int = 2
  head_hidden_size: int = 256

  def __post_init__(self):
    owner = 'NetworkConfig'
    validation.check_choice(owner, 'torso', self.torso, TORSOS)
    for field in ('value_support_size', 'reward_support_size'):
      size = getattr(self, field)
      if isinstance(size, bool) or not isinstance(size, int) or size < 3 or size % 2 == 0:
        validation.fail(owner, field, size, 'an odd int >= 3 (2S + 1 bins for the integers -S..S)')
    for field in ('latent_size', 'mlp_width', 'channels', 'downsample_channels', 'head_channels',
                  'head_hidden_size'):
      validation.check_int(owner, field, getattr(self, field), 1)
    for field in ('mlp_num_blocks', 'num_blocks', 'prediction_num_blocks'):
      validation.check_int(owner, field, getattr(self, field), 0)
    blocks = self.downsample_blocks
    if (not isinstance(blocks, (tuple, list)) or len(blocks) != 3
        or not all(isinstance(count, int) and count >= 0 for count in blocks)):
      validation.fail(owner, 'downsample_blocks', blocks, 'three ints >= 0')
