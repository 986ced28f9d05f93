"""Development tooling, apart from the domain: `runner` (the process supervisor `make run`
starts, with embedded PostgreSQL and Redis when no servers are named) and `demo` (the
generated demo loan book). The product's own code never imports this package; management
commands that seed the demo and the tests and benchmarks do."""
