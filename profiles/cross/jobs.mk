# The cross-domain check: no one-model jobs; each family notebook trains its one or two models itself.
MODEL_RUNS :=
