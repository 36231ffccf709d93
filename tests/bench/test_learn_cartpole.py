"""bench.learn_cartpole's summary: first solve, and whether the return held for --hold_s after it."""

import pytest

from bench import learn_cartpole

RULE = learn_cartpole.stopping_rule(time_budget_s=600.0, hold_s=120.0)


def _rows(*evaluations):
  """Rows like the single-process loop's from (wall_s, eval_return), 1000 env and 10 learner steps a second."""
  return [{'wall_s': wall_s, 'env_steps': int(1000 * wall_s), 'learner_steps': int(10 * wall_s),
           'eval_return': eval_return} for wall_s, eval_return in evaluations]


def _summary(rows):
  return learn_cartpole.summarize(learn_cartpole.status_from_rows(rows, RULE))


def test_never_solved():
  rows = _rows((60, 20.0), (600, 300.0))
  assert RULE.reason_to_stop(learn_cartpole.status_from_rows(rows, RULE)) is not None
  summary = _summary(rows)
  assert summary == {'solved': False, 'first_solved_s': None, 'first_solved_env_steps': None,
                     'first_solved_learner_steps': None, 'held': None, 'wall_s': 600,
                     'env_steps': 600000, 'learner_steps': 6000, 'final_eval_return': 300.0}


def test_solved_and_held_through_the_window():
  rows = _rows((60, 100.0), (120, 480.0), (180, 500.0))
  assert RULE.reason_to_stop(learn_cartpole.status_from_rows(rows, RULE)) is None  # 60 s of 120.
  rows += _rows((240.5, 475.0))
  summary = _summary(rows)
  assert summary['solved'] and summary['held'] is True
  assert (summary['first_solved_s'], summary['first_solved_env_steps'],
          summary['first_solved_learner_steps']) == (120, 120000, 1200)
  assert summary['wall_s'] == 240.5 and summary['final_eval_return'] == 475.0


def test_solved_once_then_fell_back():
  summary = _summary(_rows((60, 480.0), (120, 200.0), (180, 499.0)))
  assert summary['solved'] and summary['held'] is False and summary['first_solved_s'] == 60
  assert summary['final_eval_return'] == 499.0


@pytest.mark.parametrize('last_return, held, reason', [
    (480.0, None, 'window incomplete: held unknown'),
    (100.0, False, 'did not hold: lowest since 100'),
])
def test_budget_before_the_window_is_over(last_return, held, reason):
  """The budget cuts the window: held is unknown unless the return already fell below 475."""
  rows = _rows((540, 490.0), (600, last_return))
  assert reason in RULE.reason_to_stop(learn_cartpole.status_from_rows(rows, RULE))
  summary = _summary(rows)
  assert summary['solved'] and summary['held'] is held
