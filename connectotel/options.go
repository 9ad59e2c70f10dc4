package connectotel

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// config is what the Options set.
type config struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagators    propagation.TextMapPropagator
}

// Option configures NewTransport.
type Option func(*config)

// WithTracerProvider sets where spans go (default otel.GetTracerProvider(), read when
// NewTransport runs; the global provider forwards to one installed later). nil keeps
// the default.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) {
		if tp != nil {
			c.tracerProvider = tp
		}
	}
}

// WithMeterProvider sets where the duration histogram goes (default
// otel.GetMeterProvider(), read when NewTransport runs). nil keeps the default.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) {
		if mp != nil {
			c.meterProvider = mp
		}
	}
}

// WithPropagators sets how the trace context is written into each request's headers
// (default otel.GetTextMapPropagator(), read when NewTransport runs). nil keeps the
// default.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return func(c *config) {
		if p != nil {
			c.propagators = p
		}
	}
}

func newConfig(opts []Option) config {
	c := config{
		tracerProvider: otel.GetTracerProvider(),
		meterProvider:  otel.GetMeterProvider(),
		propagators:    otel.GetTextMapPropagator(),
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}
