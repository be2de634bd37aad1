import Testing

/// Every end-to-end suite, one at a time: each starts real clusters, and several at once on two cores (beside the
/// simulation seeds) starve each other's election timers.
@Suite(.serialized) enum EndToEnd {}
