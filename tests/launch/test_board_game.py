"""Board games end to end: the distributed program on tic-tac-toe, evaluated against random play."""

from launch import local
from tests.launch import test_program

SMALL_TIC_TAC_TOE = ['--env=openspiel:tic_tac_toe', '--num_actors=1', '--envs_per_actor=4',
                     '--num_simulations=4', '--eval_episodes=4', '--eval_period_s=5',
                     '--lp_termination_notice_secs=60']


def test_tic_tac_toe_runs_and_is_scored_against_random_play(tmp_path):
  status, stdout = test_program._launch(  # pylint: disable=protected-access
      str(tmp_path / 'run'), '--launch_type=test_mt', '--max_learner_steps=5',
      base_flags=SMALL_TIC_TAC_TOE)
  assert status.state == 'finished' and 'max_learner_steps=5' in status.reason
  assert status.learner_steps >= 5
  assert status.env_steps > 0 and status.replay_size > 0
  # A score per game of +1, 0 or -1 against the random player, averaged over 4 games.
  assert status.last_eval_return is not None and -1.0 <= status.last_eval_return <= 1.0
  assert status.last_eval_return * 4 == round(status.last_eval_return * 4)
  assert 'MuZero on openspiel:tic_tac_toe: 1 actors x 4 environments, 4 simulations' in stdout


def test_board_game_presets_follow_the_game():
  go = local.make_config('auto', 'openspiel:go(board_size=9)', two_player=True).search
  assert go.num_simulations == 800 and go.value_bounds == (-1.0, 1.0)
  # The paper's 0.03 for 19x19 Go (362 moves), scaled to 9x9's 82 moves.
  assert abs(go.dirichlet_alpha - 0.03 * 362 / 82) < 1e-9
  assert local.make_config('board_game', 'openspiel:chess').td_steps == 512
  # Small boards keep heads as wide as the tower; the paper's 2 channels are for 8x8 and 19x19.
  tic_tac_toe = local.make_config('auto', 'openspiel:tic_tac_toe', two_player=True).network
  assert tic_tac_toe.head_channels == tic_tac_toe.channels == 32
  assert local.make_config('auto', 'openspiel:chess', two_player=True).network.head_channels == 2
