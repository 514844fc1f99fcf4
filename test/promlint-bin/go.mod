// Tool module that builds promlint (test/promlint-bin/main.go), the check `promtool check metrics`
// runs, for the metrics test (docs/adr/0060-metrics-where-measured.md).
module layer-orchestrator/promlint-bin

go 1.24

require github.com/prometheus/client_golang v1.23.2

require (
	github.com/kr/text v0.2.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.2 // indirect
	github.com/prometheus/common v0.66.1 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	google.golang.org/protobuf v1.36.8 // indirect
)
