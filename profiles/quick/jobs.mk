# The quick profile has no one-model jobs: each family notebook trains its own short list of models (see its yaml),
# so `make PROFILE=quick` and `make DATA=... PROFILE=quick` stay smoke tests of a few minutes.
MODEL_RUNS :=
