module github.com/minipush/minipush

go 1.26

require (
	github.com/gorilla/mux v1.8.1 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
)
