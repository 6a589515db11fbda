namespace WebConsole.Bench;

/// <summary>The targets, judged on ratios of medians from the same run.</summary>
internal static class Ratios
{
    public static void Compute(Results results)
    {
        Throughput(results, "embed", "tokens/s", "embedding");
        Throughput(results, "rerank", "pairs/s", "rerank");

        var full = results.Find("gateway", "embed 1 word: key + rate limit + price (ledger)");
        var plain = results.Figures.LastOrDefault(f => f.Suite == "gateway" && f.Name.StartsWith("embed 1 word: key, no limit", StringComparison.Ordinal) && f.Unit == "ms p50");
        var local = results.Find("gateway", "in-process model run, 1 word");
        var bare = results.Figures.LastOrDefault(f => f.Suite == "gateway" && f.Name.StartsWith("bare endpoint", StringComparison.Ordinal) && f.Unit == "ms p50");
        full = results.Figures.LastOrDefault(f => f.Suite == "gateway" && f.Name == full?.Name && f.Unit == "ms p50");
        if (full is not null && local is not null)
        {
            var overhead = full.Median - local.Median;
            results.AddRatio("gateway overhead p50: full request - in-process model run (ms)", overhead, "< 2 ms", overhead < 2,
                "HTTP, JSON, auth, limits, billing and the durable ledger commit, tokenization, queue and pooling around the same model run");
            if (plain is not null)
            {
                results.AddRatio("limits + billing p50: priced+limited - plain endpoint (ms)", full.Median - plain.Median, "part of the 2 ms", null, "same graph, same key; only the rate-limit policy and the price differ");
            }

            if (bare is not null)
            {
                results.AddRatio("bare endpoint p50 (/healthz, ms)", bare.Median, "reference", null, "HTTP round trip of a trivial endpoint on the same server (it runs the health checks)");
            }
        }

        var loop = results.Find("chat", "in-process loop: ms per token");
        foreach (var transport in new[] { "SSE", "SignalR" })
        {
            var streamed = results.Find("chat", $"{transport}, 1 stream: ms per token");
            if (loop is not null && streamed is not null)
            {
                var overhead = (streamed.Median - loop.Median) / loop.Median;
                results.AddRatio($"streaming overhead over {transport} (share of decode time per token)", overhead, "< 5%", overhead < 0.05, $"{transport} ms/token against the in-process generation loop's, same model, prompt and threads");
            }
        }

        var cached = results.Figures.LastOrDefault(f => f.Suite == "chat" && f.Name.Contains("KV cache", StringComparison.Ordinal));
        var recomputed = results.Figures.LastOrDefault(f => f.Suite == "chat" && f.Name.Contains("full recomputation", StringComparison.Ordinal));
        if (cached is not null && recomputed is not null)
        {
            var speedup = recomputed.Median / cached.Median;
            results.AddRatio("KV cache speed-up at 256 tokens of context", speedup, ">= 5x", speedup >= 5, "per-token decode time without the cache over with it");
        }

        var highest = results.Figures.Where(f => f.Unit == "req/s" || f.Unit == "req/s (c=1)").Select(f => f.Max).DefaultIfEmpty(0).Max();
        foreach (var ledger in results.Figures.Where(f => f.Suite == "ledger" && f.Unit == "records/s" && highest > 0))
        {
            var ratio = ledger.Median / Math.Max(highest, 1e-9);
            results.AddRatio($"ledger {ledger.Name[..ledger.Name.IndexOf(':', StringComparison.Ordinal)]} / highest request rate", ratio, ">= 1", ratio >= 1,
                $"committed records/s against the highest requests/s any HTTP measurement of this run reached ({highest:0.#})");
        }

        foreach (var lost in results.Figures.Where(f => f.Suite == "ledger" && f.Unit == "records"))
        {
            results.AddRatio($"ledger {lost.Name[..lost.Name.IndexOf(':', StringComparison.Ordinal)]}: lost records", lost.Max, "0", lost.Max == 0, lost.Note ?? string.Empty);
        }
    }

    private static void Throughput(Results results, string suite, string unit, string name)
    {
        var ceiling = results.Figures.LastOrDefault(f => f.Suite == suite && f.Name.StartsWith("ceiling", StringComparison.Ordinal) && f.Unit == unit);
        var http = results.Figures.Where(f => f.Suite == suite && f.Name.StartsWith("HTTP", StringComparison.Ordinal) && f.Unit == unit).MaxBy(f => f.Median);
        var peer = results.Figures.LastOrDefault(f => f.Suite == suite && f.Name.EndsWith("best batch size", StringComparison.Ordinal) && f.Unit == unit);
        if (ceiling is not null && http is not null)
        {
            var ratio = http.Median / ceiling.Median;
            results.AddRatio($"{name}: WebConsole at saturation ({http.Name}) / ceiling", ratio, ">= 0.9", ratio >= 0.9, "HTTP with tokenization, batching and pooling against pre-tokenized, length-packed batches in-process");
        }

        if (peer is not null && http is not null)
        {
            var ratio = http.Median / peer.Median;
            results.AddRatio($"{name}: WebConsole at saturation / peer at its best batch size", ratio, "> 1", ratio > 1, $"transformers.js on onnxruntime-node ({peer.Note})");
        }
    }
}
