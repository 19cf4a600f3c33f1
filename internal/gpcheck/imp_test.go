package gpcheck

import (
	_ "github.com/HdrHistogram/hdrhistogram-go"
	_ "github.com/cucumber/godog"
	_ "github.com/testcontainers/testcontainers-go"
	_ "github.com/testcontainers/testcontainers-go/network"
	_ "github.com/testcontainers/testcontainers-go/wait"
	_ "github.com/tsenart/vegeta/v12/lib"
)
