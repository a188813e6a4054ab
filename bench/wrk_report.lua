-- wrk reporter: one JSON line with requests/s and latency percentiles (microseconds).
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_s": %.3f, "rps": %.1f, "errors": %d, "non2xx": %d, ' ..
    '"p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
