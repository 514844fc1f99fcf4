// promlint: what `promtool check metrics` does (prometheus/cmd/promtool checkMetrics), built from
// client_golang alone instead of all of Prometheus: reads Prometheus text exposition on stdin,
// parses it strictly (expfmt) and lints names, units, HELP and TYPE. Exit 1 on a parse error, 3 on
// lint problems (as promtool), 0 when clean.
package main

import (
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func main() {
	problems, err := promlint.New(os.Stdin).Lint()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error while linting:", err)
		os.Exit(1)
	}
	for _, p := range problems {
		fmt.Printf("%s: %s\n", p.Metric, p.Text)
	}
	if len(problems) > 0 {
		os.Exit(3)
	}
}
