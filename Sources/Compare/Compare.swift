// Compare: measurement statistics and side-by-side reports.
//
// Statistics (all pure, value-typed and `Sendable`):
// - `percentile(_:_:)`, `median(_:)`, `medianAbsoluteDeviation(_:)`,
//   `modifiedZScores(_:)`, `outlierCount(_:)` — descriptive statistics.
// - `SampleSummary` — everything a report shows about one set of samples.
// - `MedianRatio` — "A is x times B" with a bootstrap confidence interval.
// - `BootstrapSettings`, `ConfidenceInterval` — reproducible, seeded
//   percentile-bootstrap intervals.
//
// Every function that takes samples returns `nil` (instead of trapping) for
// an empty array or one containing NaN or ±infinity.
