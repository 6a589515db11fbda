using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using WebConsole.E2E.Playground;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Generation;

namespace WebConsole.Bench;

/// <summary>One generation's timing: time to the first token and decode speed after it.</summary>
internal readonly record struct StreamTiming(double TtftMs, int Tokens, double DecodeSeconds)
{
    /// <summary>Tokens after the first per second of decoding (the first token's time is prefill, counted in TTFT).</summary>
    public double DecodeTokensPerSecond => Tokens > 1 && DecodeSeconds > 0 ? (Tokens - 1) / DecodeSeconds : double.NaN;

    public double MsPerToken => Tokens > 1 ? DecodeSeconds * 1000 / (Tokens - 1) : double.NaN;
}

/// <summary>
/// Chat: the in-process generation loop (DecoderTextGenerator, what the server's worker runs) against the same request
/// streamed over SSE and over the SignalR hub from the server; one stream and eight at once; and the KV cache against
/// full recomputation.
/// </summary>
internal static class ChatSuite
{
    public static async Task RunInProcessAsync(BenchOptions options, Results results, string folder, string prompt)
    {
        using var sessionOptions = EncoderCeiling.Options(options.Threads);
        using var generator = DecoderTextGenerator.Open(folder, sessionOptions, useKvCache: true);
        ChatMessage[] messages = [new(ChatRole.User, prompt)];
        var generation = new GenerationOptions { MaxOutputTokens = options.ChatTokens, Temperature = 0 };
        await TimeLocalAsync(generator, messages, generation); // warm-up

        var runs = await Load.RepeatAsync(options.Repeats, () => TimeLocalAsync(generator, messages, generation));
        results.Add("chat", "in-process loop: time to first token", "ms", [.. runs.Select(r => r.TtftMs)], $"prompt {generator.EncodeChat(messages).Length} tokens");
        results.Add("chat", "in-process loop: decode", "tokens/s", [.. runs.Select(r => r.DecodeTokensPerSecond)], $"{runs[0].Tokens} tokens generated");
        results.Add("chat", "in-process loop: ms per token", "ms", [.. runs.Select(r => r.MsPerToken)]);
    }

    public static async Task RunSseAsync(BenchOptions options, Results results, ServerHost server, HttpClient client, string endpoint, string prompt)
    {
        await StreamAsync(client, endpoint, prompt, options.ChatTokens); // warm-up (loads the model)
        var single = await Load.RepeatAsync(options.Repeats, () => StreamAsync(client, endpoint, prompt, options.ChatTokens));
        results.Add("chat", "SSE, 1 stream: time to first token", "ms", [.. single.Select(r => r.TtftMs)]);
        results.Add("chat", "SSE, 1 stream: decode", "tokens/s", [.. single.Select(r => r.DecodeTokensPerSecond)], $"{single[0].Tokens} tokens generated");
        results.Add("chat", "SSE, 1 stream: ms per token", "ms", [.. single.Select(r => r.MsPerToken)]);

        var concurrent = await Load.RepeatAsync(options.Repeats, async () =>
        {
            var clock = Stopwatch.StartNew();
            var streams = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => StreamAsync(client, endpoint, prompt, options.ChatTokens)));
            return (Streams: streams, Seconds: clock.Elapsed.TotalSeconds);
        });
        results.Add("chat", "SSE, 8 streams: median time to first token", "ms", [.. concurrent.Select(r => Stats.Median([.. r.Streams.Select(s => s.TtftMs)]))]);
        results.Add("chat", "SSE, 8 streams: p99 time to first token", "ms", [.. concurrent.Select(r => Stats.Percentile([.. r.Streams.Select(s => s.TtftMs)], 99))]);
        results.Add("chat", "SSE, 8 streams: aggregate generated tokens/s", "tokens/s", [.. concurrent.Select(r => r.Streams.Sum(s => s.Tokens) / r.Seconds)]);
        _ = server;
    }

    /// <summary>
    /// The same request streamed over the playground's SignalR hub (<c>/hubs/chat</c>, <c>StreamChat</c>) on one
    /// WebSocket connection: one stream, then eight at once on eight connections.
    /// </summary>
    public static async Task RunSignalRAsync(BenchOptions options, Results results, Uri baseAddress, string apiKey, string endpoint, string prompt)
    {
        var connections = new List<HubConnection>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                connections.Add(await HubClients.ConnectWithKeyAsync(baseAddress, apiKey));
            }

            await HubStreamAsync(connections[0], endpoint, prompt, options.ChatTokens); // warm-up
            var single = await Load.RepeatAsync(options.Repeats, () => HubStreamAsync(connections[0], endpoint, prompt, options.ChatTokens));
            results.Add("chat", "SignalR, 1 stream: time to first token", "ms", [.. single.Select(r => r.TtftMs)]);
            results.Add("chat", "SignalR, 1 stream: decode", "tokens/s", [.. single.Select(r => r.DecodeTokensPerSecond)], $"{single[0].Tokens} tokens generated");
            results.Add("chat", "SignalR, 1 stream: ms per token", "ms", [.. single.Select(r => r.MsPerToken)]);

            var concurrent = await Load.RepeatAsync(options.Repeats, async () =>
            {
                var clock = Stopwatch.StartNew();
                var streams = await Task.WhenAll(connections.Select(c => HubStreamAsync(c, endpoint, prompt, options.ChatTokens)));
                return (Streams: streams, Seconds: clock.Elapsed.TotalSeconds);
            });
            results.Add("chat", "SignalR, 8 streams: median time to first token", "ms", [.. concurrent.Select(r => Stats.Median([.. r.Streams.Select(s => s.TtftMs)]))]);
            results.Add("chat", "SignalR, 8 streams: aggregate generated tokens/s", "tokens/s", [.. concurrent.Select(r => r.Streams.Sum(s => s.Tokens) / r.Seconds)]);
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Per-token decode time at <paramref name="context"/> tokens of context with the KV cache (one new token per step)
    /// and without (every step runs the whole sequence), on the same graph through DecoderSession.
    /// </summary>
    public static void RunKvCache(BenchOptions options, Results results, string folder, int context)
    {
        var config = DecoderModelConfig.FromFolder(folder);
        var onnx = Path.Combine(folder, "onnx", "model.onnx");
        var prompt = Enumerable.Range(0, context).Select(i => 1000 + (i * 37 % 20000)).ToArray();
        foreach (var useCache in new[] { true, false })
        {
            using var sessionOptions = EncoderCeiling.Options(options.Threads);
            using var session = DecoderSession.Open(onnx, config, sessionOptions, useKvCache: useCache);
            var steps = useCache ? options.KvSteps * 4 : options.KvSteps;
            var runs = new List<double>();
            for (var repeat = 0; repeat < options.Repeats + 1; repeat++)
            {
                session.Reset();
                session.Forward(prompt);
                var clock = Stopwatch.StartNew();
                for (var step = 0; step < steps; step++)
                {
                    session.Forward([2000 + step]);
                }

                if (repeat > 0)
                {
                    runs.Add(clock.Elapsed.TotalMilliseconds / steps); // the first repeat warms up
                }
            }

            results.Add("chat", $"decode step at {context} tokens of context, {(useCache ? "KV cache" : "full recomputation")}", "ms/token", runs);
        }
    }

    private static async Task<StreamTiming> TimeLocalAsync(DecoderTextGenerator generator, ChatMessage[] messages, GenerationOptions generation)
    {
        var clock = Stopwatch.StartNew();
        double first = -1, last = 0;
        var tokens = 0;
        await foreach (var update in generator.GetStreamingResponseAsync(messages, generation))
        {
            last = clock.Elapsed.TotalMilliseconds;
            if (first < 0)
            {
                first = last;
            }

            if (update.Usage is { } usage)
            {
                tokens = usage.OutputTokens;
            }
        }

        return new StreamTiming(first, tokens, (last - first) / 1000);
    }

    /// <summary>Streams one chat completion over the hub; the first item with text is the first token.</summary>
    private static async Task<StreamTiming> HubStreamAsync(HubConnection connection, string endpoint, string prompt, int maxTokens)
    {
        var request = new
        {
            inferenceId = endpoint,
            messages = new[] { new { role = "user", content = prompt } },
            maxCompletionTokens = maxTokens,
            temperature = 0.0,
        };
        var clock = Stopwatch.StartNew();
        double first = -1, last = 0;
        var tokens = 0;
        var chunks = 0;
        await foreach (var item in connection.StreamAsync<JsonElement>("StreamChat", request))
        {
            if (item.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                tokens = usage.GetProperty("outputTokens").GetInt32();
            }

            if (item.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.String && delta.GetString() is { Length: > 0 })
            {
                chunks++;
                last = clock.Elapsed.TotalMilliseconds;
                if (first < 0)
                {
                    first = last;
                }
            }
        }

        return new StreamTiming(first, tokens > 0 ? tokens : chunks, (last - first) / 1000);
    }

    /// <summary>Streams one chat completion over SSE; the first chunk with content is the first token.</summary>
    public static async Task<StreamTiming> StreamAsync(HttpClient client, string endpoint, string prompt, int maxTokens)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/_inference/chat_completion/{endpoint}/_stream")
        {
            Content = JsonContent.Create(new
            {
                messages = new[] { new { role = "user", content = prompt } },
                max_completion_tokens = maxTokens,
                temperature = 0,
            }),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"chat stream: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double first = -1, last = 0;
        var tokens = 0;
        var chunks = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line[5..].Trim();
            if (data == "[DONE]")
            {
                break;
            }

            using var json = JsonDocument.Parse(data);
            var root = json.RootElement;
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                tokens = usage.GetProperty("completion_tokens").GetInt32();
            }

            if (root.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content)
                && content.GetString() is { Length: > 0 })
            {
                chunks++;
                last = clock.Elapsed.TotalMilliseconds;
                if (first < 0)
                {
                    first = last;
                }
            }
        }

        return new StreamTiming(first, tokens > 0 ? tokens : chunks, (last - first) / 1000);
    }
}
