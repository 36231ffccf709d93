# Two commands: `make test` and `make run`. Both create .venv (Python 3.10) and install
# requirements.txt on first use; a stamp keyed on requirements.txt skips the install afterwards.
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Quiet TensorFlow's C++ start-up chatter; real errors still show.
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: setup test run clean

setup: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PYTHON) || { py=$$(tools/find_python.sh) && echo "creating $(VENV) with $$py" && $$py -m venv $(VENV); }
	$(PYTHON) -m pip install --quiet --upgrade pip==24.2
	$(PYTHON) -m pip install --quiet -r requirements.txt
	$(PYTHON) -m pip check
	touch $(STAMP)

test: $(STAMP)
	$(PYTHON) -m pytest tests -q --numprocesses=auto --maxprocesses=4 --dist=worksteal

# Distributed MuZero on CartPole; it stops by itself 60 s after the greedy evaluation return first
# reaches 475 (saying whether it held there) or after 20 minutes. One actor: the preset trains 32
# samples per insert, so the learner is the bottleneck and one actor (16 environments) more than
# feeds it; a second actor only takes CPU from it (BENCHMARKS.md, "CartPole"). ARGS overrides any
# flag, e.g. make run ARGS="--env=openspiel:tic_tac_toe --num_actors=2 --max_seconds=600".
run: $(STAMP)
	$(PYTHON) -m launch.local --env=gym:CartPole-v1 --num_actors=1 --target_eval_return=475 \
	  --hold_s=60 --max_seconds=1200 $(ARGS)

clean:
	rm -rf $(VENV)
