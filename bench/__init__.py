"""Benchmark and scale-out checks for the consent assistant (issue 8).

python -m bench run        # make bench: C x N load over REST and socket.io, stock baseline, results file
python -m bench profile    # where the time of one message goes (NLU, policies, actions, tracker store)
python -m bench.scale      # scripts/scale-test.sh: two Rasa servers on PostgreSQL + Redis behind nginx
"""
