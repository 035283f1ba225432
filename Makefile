# The two commands a newcomer needs, and the stop button.
.PHONY: up down test bench

up:    ## run the whole platform at http://localhost:8080 (Ctrl-C stops it)
	@scripts/up.sh

down:  ## stop what `make up` started
	@scripts/down.sh

test:  ## install and start what the tests need, run every test
	@scripts/test.sh

bench: ## run the benchmark against the platform and write BENCHMARKS.md
	@scripts/bench.sh
