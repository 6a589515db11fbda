using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using WebConsole.Inference.Models;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Bench;

/// <summary>
/// Embedding and rerank throughput through the HTTP API at several concurrencies, against the in-process ceiling and the
/// peer; scaling against input length and batch size; gateway overhead.
/// </summary>
internal sealed class EncoderSuites(BenchOptions options, Results results)
{
    /// <summary>The server's default batching limits (Inference:Batching), which the ceiling packs by too.</summary>
    private const int MaxBatchTokens = 16_384, MaxBatchSize = 32;

    private static readonly object OneWord = new { input = new[] { "invoice" } };

    /// <summary>Why requests failed during the current measurement: status and the start of the answer, with counts.</summary>
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);

    public async Task EmbeddingAsync(HttpClient client, string endpoint, string folder, IReadOnlyList<string> corpus)
    {
        var tokenizer = ModelFolder.Open("bench", folder).LoadTokenizer();
        var encoded = corpus.Select(t => tokenizer.Encode(t, options: new EncodeOptions { MaxLength = 512 })).ToArray();
        var tokens = encoded.Select(e => e.Length).ToArray();
        results.Note($"embedding corpus: {corpus.Count} texts, {tokens.Sum()} tokens, median {Stats.Median([.. tokens.Select(t => (double)t)])} tokens/text, max {tokens.Max()}");

        // The ceiling first: same graph, same threads, pre-tokenized, packed by length under the server's token budget.
        using (var ceiling = new EncoderCeiling(Path.Combine(folder, "onnx", "model.onnx"), options.Threads))
        {
            var batches = EncoderCeiling.Pack(encoded, MaxBatchTokens, MaxBatchSize);
            ceiling.Throughput(batches, TimeSpan.FromSeconds(1));
            var runs = await Load.RepeatAsync(options.Repeats, () => Task.FromResult(ceiling.Throughput(batches, options.Duration)));
            results.Add("embed", "ceiling (ORT in-process, packed)", "tokens/s", [.. runs.Select(r => r.TokensPerSecond)]);
            results.Add("embed", "ceiling (ORT in-process, packed)", "texts/s", [.. runs.Select(r => r.ItemsPerSecond)]);
        }

        using (await client.PostAsJsonAsync($"/_inference/text_embedding/{endpoint}", new { input = corpus.Take(8).ToArray() }))
        {
            // warm-up: the first request loads the model
        }

        foreach (var concurrency in options.Concurrencies)
        {
            var runs = await Load.RepeatAsync(options.Repeats, () => Load.RunAsync(concurrency, options.RequestsPerRun, async i =>
            {
                var k = i % corpus.Count;
                using var response = await client.PostAsJsonAsync($"/_inference/text_embedding/{endpoint}", new { input = new[] { corpus[k] } });
                return await CountAsync(response, tokens[k]);
            }));
            Report("embed", $"HTTP c={concurrency}", runs, "tokens/s", "req/s");
        }

        if (options.Peer)
        {
            var peer = await Peer.RunAsync(new { task = "embed", model = folder, threads = options.Threads, texts = corpus, tokens, batchSizes = options.PeerBatchSizes, seconds = options.Duration.TotalSeconds });
            foreach (var run in peer)
            {
                results.Add("embed", $"peer transformers.js batch={run.BatchSize}", "tokens/s", [run.TokensPerSecond], "one run per batch size");
            }

            var best = peer.MaxBy(r => r.TokensPerSecond)!;
            var repeated = await Load.RepeatAsync(options.Repeats, () => Peer.RunAsync(new { task = "embed", model = folder, threads = options.Threads, texts = corpus, tokens, batchSizes = new[] { best.BatchSize }, seconds = options.Duration.TotalSeconds }));
            results.Add("embed", "peer transformers.js at its best batch size", "tokens/s", [.. repeated.Select(r => r[0].TokensPerSecond)], $"batch size {best.BatchSize}");
        }
    }

    public async Task RerankAsync(HttpClient client, string endpoint, string folder, IReadOnlyList<string> corpus, int documentsPerQuery)
    {
        var tokenizer = ModelFolder.Open("bench-rerank", folder).LoadTokenizer();
        var random = new Random(7);
        var queries = Enumerable.Range(0, Math.Max(1, corpus.Count / documentsPerQuery)).Select(_ => Corpus.Question(random)).ToArray();
        var requests = queries.Select((q, i) => (Query: q, Documents: corpus.Skip(i * documentsPerQuery).Take(documentsPerQuery).ToArray())).ToArray();
        var pairs = requests.SelectMany(r => r.Documents.Select(d => (r.Query, Document: d))).ToArray();
        var encoded = pairs.Select(p => tokenizer.Encode(p.Query, p.Document, new EncodeOptions { MaxLength = 512 })).ToArray();

        using (var ceiling = new EncoderCeiling(Path.Combine(folder, "onnx", "model.onnx"), options.Threads))
        {
            var batches = EncoderCeiling.Pack(encoded, MaxBatchTokens, MaxBatchSize);
            ceiling.Throughput(batches, TimeSpan.FromSeconds(1));
            var runs = await Load.RepeatAsync(options.Repeats, () => Task.FromResult(ceiling.Throughput(batches, options.Duration)));
            results.Add("rerank", "ceiling (ORT in-process, packed)", "pairs/s", [.. runs.Select(r => r.ItemsPerSecond)]);
        }

        using (await client.PostAsJsonAsync($"/_inference/rerank/{endpoint}", new { query = queries[0], input = requests[0].Documents }))
        {
            // warm-up: the first request loads the model
        }

        foreach (var concurrency in options.Concurrencies)
        {
            var runs = await Load.RepeatAsync(options.Repeats, () => Load.RunAsync(concurrency, options.RequestsPerRun / documentsPerQuery, async i =>
            {
                var k = i % requests.Length;
                using var response = await client.PostAsJsonAsync($"/_inference/rerank/{endpoint}", new { query = requests[k].Query, input = requests[k].Documents });
                return await CountAsync(response, requests[k].Documents.Length);
            }));
            Report("rerank", $"HTTP c={concurrency} ({documentsPerQuery} documents/request)", runs, "pairs/s", "req/s");
        }

        if (options.Peer)
        {
            var pairArray = pairs.Select(p => new[] { p.Query, p.Document }).ToArray();
            var pairTokens = encoded.Select(e => e.Length).ToArray();
            var peer = await Peer.RunAsync(new { task = "rerank", model = folder, threads = options.Threads, pairs = pairArray, tokens = pairTokens, batchSizes = options.PeerBatchSizes, seconds = options.Duration.TotalSeconds });
            foreach (var run in peer)
            {
                results.Add("rerank", $"peer transformers.js batch={run.BatchSize}", "pairs/s", [run.ItemsPerSecond], "one run per batch size");
            }

            var best = peer.MaxBy(r => r.ItemsPerSecond)!;
            var repeated = await Load.RepeatAsync(options.Repeats, () => Peer.RunAsync(new { task = "rerank", model = folder, threads = options.Threads, pairs = pairArray, tokens = pairTokens, batchSizes = new[] { best.BatchSize }, seconds = options.Duration.TotalSeconds }));
            results.Add("rerank", "peer transformers.js at its best batch size", "pairs/s", [.. repeated.Select(r => r[0].ItemsPerSecond)], $"batch size {best.BatchSize}");
        }
    }

    /// <summary>In-process throughput against input length (exact token counts) and batch size.</summary>
    public async Task ScalingAsync(string folder)
    {
        var tokenizer = ModelFolder.Open("bench", folder).LoadTokenizer();
        using var ceiling = new EncoderCeiling(Path.Combine(folder, "onnx", "model.onnx"), options.Threads);
        foreach (var length in options.Lengths)
        {
            foreach (var batchSize in options.BatchSizes)
            {
                var batch = Enumerable.Range(0, batchSize).Select(i => Exact(tokenizer, length, 1000 + i)).ToArray();
                var runs = await Load.RepeatAsync(options.Repeats, () => Task.FromResult(ceiling.Throughput([batch], options.ShortDuration).TokensPerSecond));
                results.Add("scaling", $"length {length}, batch {batchSize}", "tokens/s", runs);
            }
        }
    }

    /// <summary>
    /// Latency of a one-word embedding request with the gateway fully on (API key, a rate-limit policy, a price, so the
    /// ledger's durable commit), with limits and price absent, and a bare endpoint (<c>/healthz</c>) of the same server;
    /// against the same input through the runtime in-process.
    /// </summary>
    public async Task GatewayAsync(ServerHost server, HttpClient client, string pricedEndpoint, string plainEndpoint, string folder)
    {
        var tokenizer = ModelFolder.Open("bench", folder).LoadTokenizer();
        var word = tokenizer.Encode("invoice");
        using (var ceiling = new EncoderCeiling(Path.Combine(folder, "onnx", "model.onnx"), options.Threads))
        {
            ceiling.LatencyMs([word], 20);
            var runs = await Load.RepeatAsync(options.Repeats, () => Task.FromResult(ceiling.LatencyMs([word], options.GatewayRequests / 4)));
            results.Add("gateway", "in-process model run, 1 word", "ms p50", runs);
        }

        using var anonymous = server.Client(authenticated: false);
        var cases = new (string Name, HttpClient Client, Func<HttpClient, Task<HttpResponseMessage>> Send)[]
        {
            ("bare endpoint GET /healthz", anonymous, c => c.GetAsync(new Uri("/healthz", UriKind.Relative))),
            ("embed 1 word: key, no limit policy, no price", client, c => c.PostAsJsonAsync($"/_inference/text_embedding/{plainEndpoint}", OneWord)),
            ("embed 1 word: key + rate limit + price (ledger)", client, c => c.PostAsJsonAsync($"/_inference/text_embedding/{pricedEndpoint}", OneWord)),
        };
        foreach (var (name, http, send) in cases)
        {
            for (var i = 0; i < 20; i++)
            {
                using var warm = await send(http);
            }

            var runs = await Load.RepeatAsync(options.Repeats, async () =>
            {
                var times = new List<double>(options.GatewayRequests);
                for (var i = 0; i < options.GatewayRequests; i++)
                {
                    var clock = Stopwatch.StartNew();
                    using var response = await send(http);
                    await response.Content.ReadAsByteArrayAsync();
                    times.Add(clock.Elapsed.TotalMilliseconds);
                    if (!response.IsSuccessStatusCode && name != cases[0].Name)
                    {
                        throw new InvalidOperationException($"{name}: {(int)response.StatusCode}");
                    }
                }

                return (P50: Stats.Percentile(times, 50), P99: Stats.Percentile(times, 99), Rps: 1000 / times.Average());
            });
            results.Add("gateway", name, "ms p50", [.. runs.Select(r => r.P50)]);
            results.Add("gateway", name, "ms p99", [.. runs.Select(r => r.P99)]);
            results.Add("gateway", name, "req/s (c=1)", [.. runs.Select(r => r.Rps)]);
        }
    }

    private void Report(string suite, string name, List<LoadResult> runs, string unitName, string requestName)
    {
        results.Add(suite, name, unitName, [.. runs.Select(r => r.UnitsPerSecond)]);
        results.Add(suite, name, requestName, [.. runs.Select(r => r.RequestsPerSecond)]);
        results.Add(suite, name, "ms p50", [.. runs.Select(r => r.P50Ms)]);
        results.Add(suite, name, "ms p99", [.. runs.Select(r => r.P99Ms)]);
        if (runs.Sum(r => r.Errors) is > 0 and var errors)
        {
            results.Add(suite, name, "failed requests", [.. runs.Select(r => (double)r.Errors)], $"{errors} answers were not a success; they are not counted in the figures above");
            results.Note($"{suite} {name}: failed requests: " + string.Join("; ", _failures.Select(f => $"{f.Value} x {f.Key}")));
        }

        _failures.Clear();
    }

    private async Task<long> CountAsync(HttpResponseMessage response, long units)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (response.IsSuccessStatusCode)
        {
            return units;
        }

        _failures.AddOrUpdate($"{(int)response.StatusCode} {(body.Length > 160 ? body[..160] : body)}", 1, (_, count) => count + 1);
        return -1;
    }

    /// <summary>A text of exactly <paramref name="length"/> tokens: [CLS], the first length-2 pieces of a long passage, [SEP].</summary>
    private static TokenizedText Exact(ITokenizer tokenizer, int length, int seed)
    {
        var full = tokenizer.Encode(Corpus.TextOfAtLeast(tokenizer, length, seed));
        var ids = full.Ids[..(length - 1)].Append(full.Ids[^1]).ToArray();
        return new TokenizedText(ids, new int[length], [.. Enumerable.Repeat(1, length)], new (int, int)[length], new string[length], false);
    }
}
